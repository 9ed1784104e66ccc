// /studio/genres, /studio/stars, /studio/directors, /studio/certifications:
// one page per lookup, with search and pages in the URL, add, rename and
// delete; the server's 409s (name taken, still used by movies) in words.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api/errors';
import { navigate, queryString, useLocation } from '../../router';
import type { PageProps } from '../../routes';
import { Empty, ErrorMessage, Field, Loading, Notice, Pagination } from '../../ui/common';
import { useAsync, useTitle } from '../../ui/hooks';
import { ConfirmDialog, explainLookupDelete, explainName, intParam, KIND, StudioPage, useChanged, type LookupKind } from './common';
import { createLookup, deleteLookup, listLookups, renameLookup, type Lookup } from './lookupApi';

function AddForm({ kind, onAdded }: { kind: LookupKind; onAdded: (l: Lookup) => void }) {
  const k = KIND[kind];
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const fieldMsg = explainName(error, kind);
  return (
    <form
      class="lookup-add"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!name.trim()) {
          setError(new ApiError(422, 'validation_failed', 'The name is missing.', [{ field: 'name', message: 'Type a name first.' }]));
          return;
        }
        setBusy(true);
        setError(null);
        createLookup(kind, name.trim()).then(
          (l) => {
            setBusy(false);
            setName('');
            onAdded(l);
          },
          (x: unknown) => {
            setBusy(false);
            setError(x);
          },
        );
      }}
    >
      <Field
        label={`New ${k.one}`}
        value={name}
        maxLength={k.max}
        placeholder="Name"
        onInput={(e) => {
          setName(e.currentTarget.value);
          setError(null);
        }}
        error={fieldMsg}
        hint={`1 to ${k.max} characters, unique.`}
      />
      <button type="submit" class="btn btn-primary" disabled={busy}>
        {busy ? 'Adding…' : `Add ${k.one}`}
      </button>
      {error && !fieldMsg && <ErrorMessage error={error} />}
    </form>
  );
}

function RenameRow({ kind, item, onDone, onCancel }: { kind: LookupKind; item: Lookup; onDone: (l: Lookup) => void; onCancel: () => void }) {
  const k = KIND[kind];
  const [name, setName] = useState(item.name);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => ref.current?.querySelector('input')?.select(), []);
  const fieldMsg = explainName(error, kind);
  return (
    <tr>
      <td colSpan={3}>
        <form
          ref={ref}
          class="lookup-rename"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (!name.trim()) {
              setError(new ApiError(422, 'validation_failed', 'The name is missing.', [{ field: 'name', message: 'Type a name first.' }]));
              return;
            }
            setBusy(true);
            renameLookup(kind, item.id, name.trim()).then(onDone, (x: unknown) => {
              setBusy(false);
              setError(x);
            });
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape') onCancel();
          }}
        >
          <Field
            label={`New name for “${item.name}”`}
            value={name}
            maxLength={k.max}
            onInput={(e) => {
              setName(e.currentTarget.value);
              setError(null);
            }}
            error={fieldMsg}
          />
          <div class="row">
            <button type="submit" class="btn btn-primary btn-small" disabled={busy}>
              {busy ? 'Saving…' : 'Save name'}
            </button>
            <button type="button" class="btn btn-small" onClick={onCancel}>
              Cancel
            </button>
          </div>
          {error && !fieldMsg && <ErrorMessage error={error} />}
        </form>
      </td>
    </tr>
  );
}

function DeleteLookup({ kind, item, onClose, onDeleted }: { kind: LookupKind; item: Lookup; onClose: () => void; onDeleted: () => void }) {
  const k = KIND[kind];
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const inUse = error instanceof ApiError && error.code === 'in_use';
  const why = explainLookupDelete(error, kind, item.name);
  return (
    <ConfirmDialog
      title={`Delete the ${k.one} “${item.name}”?`}
      onClose={onClose}
      actions={
        inUse ? null : (
          <button
            type="button"
            class="btn btn-danger"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              deleteLookup(kind, item.id).then(onDeleted, (x: unknown) => {
                setBusy(false);
                if (x instanceof ApiError && x.status === 404) onDeleted();
                else setError(x);
              });
            }}
          >
            {busy ? 'Deleting…' : 'Delete'}
          </button>
        )
      }
    >
      {!error && (
        <p>
          {item.movie_count > 0
            ? `${item.movie_count === 1 ? 'One movie uses' : `${item.movie_count} movies use`} it, so the server will refuse until they no longer do.`
            : `No movie uses this ${k.one}. Deleting it cannot be undone.`}
        </p>
      )}
      {error && (
        <div class="alert alert-error" role="alert">
          <p>{why ?? (error instanceof ApiError ? error.message : 'Something went wrong; try again.')}</p>
          {inUse && (
            <p>
              <a href={`/movies${queryString({ [k.filter]: item.id })}`}>See the movies that use it</a>
            </p>
          )}
        </div>
      )}
    </ConfirmDialog>
  );
}

function LookupPage({ kind }: { kind: LookupKind }) {
  const k = KIND[kind];
  const { path, query } = useLocation();
  const page = intParam(query.get('page'), 1);
  const search = query.get('search') ?? '';
  const [text, setText] = useState(search);
  const [renaming, setRenaming] = useState<number | null>(null);
  const [removing, setRemoving] = useState<Lookup | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  useTitle(`Studio: ${k.many}`);
  useChanged(search, () => setText(search));
  const list = useAsync(() => listLookups(kind, search, page), [kind, search, page]);
  const href = (p: { search?: string; page?: number }) => `${path}${queryString({ search, page: page > 1 ? page : undefined, ...p })}`;

  // Search as you type (the URL follows, without a history entry per key).
  useEffect(() => {
    if (text.trim() === search.trim()) return;
    const t = setTimeout(() => navigate(href({ search: text.trim(), page: undefined }), { replace: true, keepScroll: true }), 350);
    return () => clearTimeout(t);
  }, [text]);

  return (
    <StudioPage>
      <div class="page-head">
        <h1>{k.title}</h1>
        {list.data && (
          <p class="muted">
            {list.data.totalItems === 1 ? `1 ${k.one}` : `${list.data.totalItems} ${k.many}`}
            {search ? ` ${list.data.totalItems === 1 ? 'matches' : 'match'} “${search}”` : ''}
          </p>
        )}
      </div>
      {notice && <Notice kind="success">{notice}</Notice>}
      <div class="lookup-tools">
        <AddForm
          kind={kind}
          onAdded={(l) => {
            setNotice(`Added the ${k.one} “${l.name}”.`);
            list.reload();
          }}
        />
        <form
          role="search"
          aria-label={`Find ${k.many}`}
          class="lookup-search"
          onSubmit={(e) => {
            e.preventDefault();
            navigate(href({ search: text.trim(), page: undefined }));
          }}
        >
          <Field label={`Search ${k.many}`} type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <button type="submit" class="btn">
            Search
          </button>
        </form>
      </div>
      <ErrorMessage error={list.error} retry={list.reload} />
      {list.loading && !list.data && <Loading />}
      {list.data &&
        (list.data.items.length === 0 ? (
          <Empty>{search ? `No ${k.one} matches “${search}”.` : `No ${k.many} yet: add the first one above.`}</Empty>
        ) : (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">
                {k.title}, page {page}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" class="num">
                    Movies
                  </th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((l) =>
                  renaming === l.id ? (
                    <RenameRow
                      key={l.id}
                      kind={kind}
                      item={l}
                      onCancel={() => setRenaming(null)}
                      onDone={(n) => {
                        setRenaming(null);
                        setNotice(`Renamed “${l.name}” to “${n.name}”.`);
                        list.reload();
                      }}
                    />
                  ) : (
                    <tr key={l.id}>
                      <td>{l.name}</td>
                      <td class="num">
                        {l.movie_count > 0 ? (
                          <a href={`/movies${queryString({ [k.filter]: l.id })}`} aria-label={`${l.movie_count} movies with ${l.name}`}>
                            {l.movie_count}
                          </a>
                        ) : (
                          '0'
                        )}
                      </td>
                      <td>
                        <div class="row row-tight row-end">
                          <button type="button" class="btn btn-small" aria-label={`Rename ${l.name}`} onClick={() => setRenaming(l.id)}>
                            Rename
                          </button>
                          <button type="button" class="btn btn-small btn-danger" aria-label={`Delete ${l.name}`} onClick={() => setRemoving(l)}>
                            Delete
                          </button>
                        </div>
                      </td>
                    </tr>
                  ),
                )}
              </tbody>
            </table>
          </div>
        ))}
      {list.data && <Pagination page={page} totalPages={list.data.totalPages} hrefFor={(p) => href({ page: p })} />}
      {removing && (
        <DeleteLookup
          kind={kind}
          item={removing}
          onClose={() => setRemoving(null)}
          onDeleted={() => {
            setNotice(`Deleted the ${k.one} “${removing.name}”.`);
            setRemoving(null);
            list.reload();
          }}
        />
      )}
    </StudioPage>
  );
}

export function Genres(_: PageProps) {
  return <LookupPage key="genre" kind="genre" />;
}
export function Stars(_: PageProps) {
  return <LookupPage key="star" kind="star" />;
}
export function Directors(_: PageProps) {
  return <LookupPage key="director" kind="director" />;
}
export function Certifications(_: PageProps) {
  return <LookupPage key="certification" kind="certification" />;
}
