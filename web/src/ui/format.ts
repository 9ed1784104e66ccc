export function money(amount: string | number, currency = 'USD'): string {
  const n = typeof amount === 'number' ? amount : Number(amount);
  if (!Number.isFinite(n)) return String(amount);
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(n);
}

export function minutes(m: number): string {
  const h = Math.floor(m / 60);
  return h ? `${h} h ${m % 60} min` : `${m} min`;
}

export function dateTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

export function date(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString('en-GB', { dateStyle: 'medium' });
}

/** "1:02:03" or "4:05": a position for people. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** "1 hour 2 minutes 3 seconds": the same for screen readers. */
export function spokenClock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const parts: string[] = [];
  const add = (n: number, unit: string) => {
    if (n) parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
  };
  add(Math.floor(s / 3600), 'hour');
  add(Math.floor((s % 3600) / 60), 'minute');
  add(s % 60, 'second');
  return parts.length ? parts.join(' ') : '0 seconds';
}
