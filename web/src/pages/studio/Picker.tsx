// A multi-select with search as you type (WAI-ARIA combobox + listbox):
// the chosen items show as chips above the input, each with a remove
// button; typing lists matches (from the server for stars and directors);
// Enter or a click toggles the active option; a name that no item has can be
// added as a new one on the spot.
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { describe } from '../../api/errors';

export interface Option {
  id: number;
  name: string;
}

interface Props {
  label: string;
  /** "genre", "star": used in "Add “X” as a new star". */
  noun: string;
  selected: Option[];
  onChange: (sel: Option[]) => void;
  /** The options matching text ("" for the first few). */
  search: (text: string) => Promise<Option[]>;
  /** Creates a new item named name (absent: no inline creation). */
  create?: (name: string) => Promise<Option>;
  error?: string | undefined;
  hint?: string;
}

const NEW = -1;

export function Picker({ label, noun, selected, onChange, search, create, error, hint }: Props) {
  const id = useId();
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [options, setOptions] = useState<Option[]>([]);
  const [loading, setLoading] = useState(false);
  const [active, setActive] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const seq = useRef(0);
  const input = useRef<HTMLInputElement>(null);
  const closing = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(closing.current), []);

  useEffect(() => {
    if (!open) return;
    const n = ++seq.current;
    setLoading(true);
    const t = setTimeout(
      () => {
        search(text.trim()).then(
          (o) => {
            if (n !== seq.current) return;
            setOptions(o);
            setLoading(false);
            setActive(0);
          },
          (e: unknown) => {
            if (n !== seq.current) return;
            setOptions([]);
            setLoading(false);
            setProblem(describe(e));
          },
        );
      },
      text ? 200 : 0,
    );
    return () => clearTimeout(t);
  }, [text, open]);

  const typed = text.trim();
  // "Add as new" only once the matches are in: never beside a stale list.
  const offerNew = !!create && !loading && typed !== '' && !options.some((o) => o.name === typed) && !selected.some((o) => o.name === typed);
  const rows: Option[] = offerNew ? [...options, { id: NEW, name: typed }] : options;
  const isSelected = (o: Option) => selected.some((s) => s.id === o.id);

  async function choose(o: Option) {
    setProblem(null);
    if (o.id === NEW && create) {
      try {
        const made = await create(o.name);
        onChange([...selected, made]);
        setStatus(`Added ${made.name} as a new ${noun}, and chose it.`);
        setText('');
      } catch (e) {
        setProblem(describe(e));
      }
      input.current?.focus();
      return;
    }
    if (isSelected(o)) {
      onChange(selected.filter((s) => s.id !== o.id));
      setStatus(`Removed ${o.name}.`);
    } else {
      onChange([...selected, o]);
      setStatus(`Chose ${o.name}.`);
      setText('');
    }
    input.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (!open) setOpen(true);
      else setActive((a) => Math.min(a + 1, rows.length - 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (e.key === 'Enter') {
      if (open && rows[active]) {
        e.preventDefault();
        void choose(rows[active]);
      } else if (open) e.preventDefault();
    } else if (e.key === 'Escape') {
      if (open) {
        e.preventDefault();
        e.stopPropagation();
        setOpen(false);
      }
    } else if (e.key === 'Backspace' && text === '' && selected.length) {
      const last = selected[selected.length - 1];
      if (last) {
        onChange(selected.slice(0, -1));
        setStatus(`Removed ${last.name}.`);
      }
    }
  }

  const listId = `${id}-list`;
  const activeId = open && rows[active] ? `${id}-opt-${active}` : undefined;
  const described = [hint ? `${id}-hint` : '', error ? `${id}-err` : ''].filter(Boolean).join(' ');

  return (
    <div class={`field picker${error ? ' field-invalid' : ''}`}>
      <label for={`${id}-input`}>{label}</label>
      {selected.length > 0 && (
        <ul class="chips" aria-label={`Chosen ${label.toLowerCase()}`}>
          {selected.map((o) => (
            <li key={o.id} class="chip">
              <span>{o.name}</span>
              <button
                type="button"
                class="chip-remove"
                aria-label={`Remove ${o.name}`}
                onClick={() => {
                  onChange(selected.filter((s) => s.id !== o.id));
                  setStatus(`Removed ${o.name}.`);
                  input.current?.focus();
                }}
              >
                <span aria-hidden="true">×</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="picker-box">
        <input
          ref={input}
          id={`${id}-input`}
          type="text"
          role="combobox"
          autocomplete="off"
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls={listId}
          aria-activedescendant={activeId}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={described || undefined}
          placeholder={`Search ${label.toLowerCase()}`}
          value={text}
          onInput={(e) => {
            // The old matches go at once: Enter must never pick one of them.
            setText(e.currentTarget.value);
            setOptions([]);
            setActive(0);
            setProblem(null);
            setOpen(true);
          }}
          onFocus={() => {
            clearTimeout(closing.current);
            setOpen(true);
          }}
          onClick={() => setOpen(true)}
          // Closed a moment later: at the foot of a page the open list makes the
          // page taller, and closing it at mousedown would scroll the page under
          // the pointer, so the click meant for a button below would be lost.
          onBlur={() => {
            closing.current = setTimeout(() => setOpen(false), 250);
          }}
          onKeyDown={onKeyDown}
        />
        <ul id={listId} role="listbox" aria-label={label} aria-multiselectable="true" class="picker-list" hidden={!open || rows.length === 0}>
          {open &&
            rows.map((o, i) => (
              <li
                key={o.id}
                id={`${id}-opt-${i}`}
                role="option"
                aria-selected={o.id === NEW ? false : isSelected(o)}
                class={`picker-option${i === active ? ' active' : ''}${o.id === NEW ? ' picker-new' : ''}`}
                onMouseDown={(e) => e.preventDefault()}
                onMouseEnter={() => setActive(i)}
                onClick={() => void choose(o)}
              >
                {o.id === NEW ? `Add “${o.name}” as a new ${noun}` : o.name}
              </li>
            ))}
        </ul>
        {open && rows.length === 0 && (
          <p class="picker-empty">
            {loading ? 'Searching…' : (problem ?? (typed ? `No ${noun} matches “${typed}”.` : `No ${noun} yet.`))}
          </p>
        )}
      </div>
      {hint && (
        <div class="hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      {problem && rows.length > 0 && (
        <p class="field-error" role="alert">
          {problem}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-err`} role="alert">
          {error}
        </p>
      )}
      <p class="visually-hidden" role="status" aria-live="polite">
        {status}
      </p>
    </div>
  );
}
