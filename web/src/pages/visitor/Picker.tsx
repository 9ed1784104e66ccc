// A search-as-you-type picker for a star or a director (there are hundreds):
// an ARIA combobox whose list comes from GET /api/v1/stars?search= (or
// /directors). The chosen id is the value; its name is read back from
// GET /api/v1/stars/{id} so a shared link shows who is filtered on.
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { describe } from '../../api/errors';

type Lookup = Schemas['Lookup'];
export type PersonKind = 'stars' | 'directors';

function search(kind: PersonKind, text: string): Promise<Schemas['LookupPage']> {
  const query = { search: text || undefined, per_page: 10 };
  return kind === 'stars'
    ? call(api.GET('/api/v1/stars', { params: { query } }))
    : call(api.GET('/api/v1/directors', { params: { query } }));
}

function getOne(kind: PersonKind, id: number): Promise<Lookup> {
  return kind === 'stars'
    ? call(api.GET('/api/v1/stars/{id}', { params: { path: { id } } }))
    : call(api.GET('/api/v1/directors/{id}', { params: { path: { id } } }));
}

/** A whole number id, or null when the URL holds something else (the server's 422 then names it). */
function asId(v: string | undefined): number | null {
  return v && /^[1-9]\d{0,17}$/.test(v) ? Number(v) : null;
}

export function PersonPicker({
  kind,
  label,
  value,
  error,
  onChange,
}: {
  kind: PersonKind;
  label: string;
  value: string | undefined;
  error?: string | undefined;
  onChange: (id: string | undefined) => void;
}) {
  const id = useId();
  const [chosen, setChosen] = useState<string>('');
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [options, setOptions] = useState<Lookup[]>([]);
  const [total, setTotal] = useState(0);
  const [active, setActive] = useState(-1);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);

  // The name of the chosen person (from a link or a reload).
  useEffect(() => {
    const n = asId(value);
    if (!value) {
      setChosen('');
      setText('');
      return;
    }
    if (n === null) {
      setChosen(value);
      setText(value);
      return;
    }
    let live = true;
    getOne(kind, n).then(
      (l) => {
        if (!live) return;
        setChosen(l.name);
        setText(l.name);
      },
      () => {
        if (!live) return;
        setChosen(`#${value}`);
        setText(`#${value}`);
      },
    );
    return () => {
      live = false;
    };
  }, [kind, value]);

  // The options for what is typed, a moment after the last key.
  useEffect(() => {
    if (!open) return;
    const n = ++seq.current;
    const typed = text === chosen ? '' : text.trim();
    setBusy(true);
    const t = setTimeout(() => {
      search(kind, typed).then(
        (p) => {
          if (n !== seq.current) return;
          setOptions(p.items);
          setTotal(p.total_items);
          setActive(-1);
          setProblem(null);
          setBusy(false);
        },
        (e: unknown) => {
          if (n !== seq.current) return;
          setOptions([]);
          setProblem(describe(e));
          setBusy(false);
        },
      );
    }, 200);
    return () => clearTimeout(t);
  }, [open, text, kind, chosen]);

  const choose = (l: Lookup) => {
    setOpen(false);
    setChosen(l.name);
    setText(l.name);
    onChange(String(l.id));
  };
  const close = () => {
    setOpen(false);
    setText(chosen);
  };

  const listId = `${id}-list`;
  const described = [error ? `${id}-err` : '', `${id}-status`].filter(Boolean).join(' ');
  let status = '';
  if (open) {
    if (problem) status = problem;
    else if (busy && options.length === 0) status = 'Searching…';
    else if (options.length === 0) status = `No ${kind === 'stars' ? 'star' : 'director'} matches “${text.trim()}”.`;
    else status = `${total} match${total === 1 ? '' : 'es'}${total > options.length ? `, first ${options.length} shown` : ''}; use the arrow keys to choose.`;
  }

  return (
    <div class={`field picker${error ? ' field-invalid' : ''}`}>
      <label for={id}>{label}</label>
      <div class="picker-box">
        <input
          id={id}
          type="text"
          role="combobox"
          autocomplete="off"
          placeholder="Type a name"
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls={listId}
          aria-activedescendant={open && active >= 0 ? `${id}-opt-${active}` : undefined}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={described}
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            setOpen(true);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => setTimeout(close, 150)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') {
              e.preventDefault();
              if (!open) setOpen(true);
              else setActive((a) => Math.min(a + 1, options.length - 1));
            } else if (e.key === 'ArrowUp') {
              e.preventDefault();
              setActive((a) => Math.max(a - 1, 0));
            } else if (e.key === 'Enter') {
              // Enter picks the highlighted name; otherwise it submits the form as usual.
              const o = open && active >= 0 ? options[active] : undefined;
              if (o) {
                e.preventDefault();
                choose(o);
              }
            } else if (e.key === 'Escape' && open) {
              e.preventDefault();
              close();
            }
          }}
        />
        {value && (
          <button
            type="button"
            class="btn btn-small picker-clear"
            aria-label={`Clear ${label.toLowerCase()}`}
            onClick={() => {
              setChosen('');
              setText('');
              onChange(undefined);
            }}
          >
            ×
          </button>
        )}
      </div>
      <ul id={listId} role="listbox" aria-label={`${label} suggestions`} class="picker-list" hidden={!open || options.length === 0}>
        {options.map((o, i) => (
          <li
            key={o.id}
            id={`${id}-opt-${i}`}
            role="option"
            aria-selected={i === active}
            class={i === active ? 'active' : undefined}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => choose(o)}
          >
            {o.name} <span class="muted">({o.movie_count})</span>
          </li>
        ))}
      </ul>
      <p id={`${id}-status`} class={open && options.length === 0 && status ? 'picker-status' : 'visually-hidden'} role="status">
        {status}
      </p>
      {error && (
        <p class="field-error" id={`${id}-err`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
