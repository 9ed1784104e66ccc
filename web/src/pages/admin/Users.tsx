// /admin/users: every account with the filters of GET /admin/users (email,
// group, active) in the URL; change a user's group, activate, deactivate.
// The server refuses an administrator's change to their own account (409
// self_modification): its sentence is shown on that row.
import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { ApiError, describe } from '../../api/errors';
import { navigate, queryString, useLocation } from '../../router';
import { Empty, ErrorMessage, Field, Loading, Pagination, SelectField } from '../../ui/common';
import { date } from '../../ui/format';
import { useAsync, useSession, useTitle } from '../../ui/hooks';
import { intParam, useChanged } from '../studio/common';

type User = Schemas['User'];
type Group = Schemas['Group'];
const GROUPS: Group[] = ['USER', 'MODERATOR', 'ADMIN'];
const GROUP_LABEL: Record<Group, string> = { USER: 'User', MODERATOR: 'Moderator', ADMIN: 'Administrator' };

function isGroup(v: string | null): v is Group {
  return GROUPS.some((g) => g === v);
}

function UserRow({ user, me, onChanged }: { user: User; me: boolean; onChanged: (u: User) => void }) {
  const [group, setGroup] = useState<Group>(user.group);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  useChanged(user.group, () => setGroup(user.group));
  const name = user.profile.first_name || user.profile.last_name ? `${user.profile.first_name ?? ''} ${user.profile.last_name ?? ''}`.trim() : null;

  async function patch(body: Schemas['AdminUserUpdate'], what: string) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const u = await call(api.PATCH('/api/v1/admin/users/{id}', { params: { path: { id: user.id } }, body }));
      onChanged(u);
      setDone(what);
    } catch (e) {
      setError(e);
      setGroup(user.group);
    } finally {
      setBusy(false);
    }
  }

  const selfMod = error instanceof ApiError && error.status === 409 && error.code === 'self_modification';
  return (
    <tr>
      <td data-label="Account"><div>
        <span class="cell-email">{user.email}</span>
        {me && <span class="you"> (you)</span>}
        {name && <div class="muted small">{name}</div>}
        <div class="muted small">
          #{user.id} · joined {date(user.created_at)}
        </div>
      </div></td>
      <td data-label="Group"><div>
        <form
          class="row row-tight group-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (group !== user.group) void patch({ group }, `Now in the group ${GROUP_LABEL[group]}.`);
          }}
        >
          <SelectField label={`Group of ${user.email}`} value={group} onChange={(e) => isGroup(e.currentTarget.value) && setGroup(e.currentTarget.value)}>
            {GROUPS.map((g) => (
              <option key={g} value={g}>
                {GROUP_LABEL[g]}
              </option>
            ))}
          </SelectField>
          <button type="submit" class="btn btn-small" disabled={busy || group === user.group}>
            Change group
          </button>
        </form>
      </div></td>
      <td data-label="Status"><div>
        <span class={`status ${user.is_active ? 'status-paid' : 'status-canceled'}`}>{user.is_active ? 'Active' : 'Inactive'}</span>
      </div></td>
      <td data-label="Actions"><div>
        {user.is_active ? (
          <button type="button" class="btn btn-small btn-danger" disabled={busy} aria-label={`Deactivate ${user.email}`} onClick={() => void patch({ is_active: false }, 'Deactivated: every session of the account has ended.')}>
            Deactivate
          </button>
        ) : (
          <button type="button" class="btn btn-small" disabled={busy} aria-label={`Activate ${user.email}`} onClick={() => void patch({ is_active: true }, 'Activated.')}>
            Activate
          </button>
        )}
        {done && (
          <p class="small text-ok" role="status">
            {done}
          </p>
        )}
        {error && (
          <p class="field-error small" role="alert">
            {selfMod ? `${describe(error)} Ask another administrator to do it.` : describe(error)}
          </p>
        )}
      </div></td>
    </tr>
  );
}

export default function Users() {
  const { query } = useLocation();
  const s = useSession();
  const page = intParam(query.get('page'), 1);
  const email = query.get('email') ?? '';
  const g = query.get('group');
  const group = isGroup(g) ? g : undefined;
  const a = query.get('is_active');
  const active = a === 'true' ? true : a === 'false' ? false : undefined;
  const [form, setForm] = useState({ email, group: group ?? '', active: a === 'true' || a === 'false' ? a : '' });
  useChanged(`${email}|${group ?? ''}|${String(active)}`, () =>
    setForm({ email, group: group ?? '', active: active === undefined ? '' : String(active) }),
  );
  useTitle('Users');

  const list = useAsync(
    () => call(api.GET('/api/v1/admin/users', { params: { query: { email: email || undefined, group, is_active: active, page } } })),
    [email, group, active, page],
  );
  const href = (p: { email?: string; group?: string; is_active?: string; page?: number }) =>
    `/admin/users${queryString({ email, group, is_active: active === undefined ? undefined : String(active), page: page > 1 ? page : undefined, ...p })}`;
  const filtered = Boolean(email || group || active !== undefined);
  const emailErr = list.error instanceof ApiError ? list.error.field('email') : undefined;

  return (
    <section class="page studio">
      <div class="page-head">
        <h1>Users</h1>
        {list.data && (
          <p class="muted">
            {list.data.total_items === 1 ? '1 account' : `${list.data.total_items} accounts`}
            {filtered ? (list.data.total_items === 1 ? ' matches' : ' match') : ''}
          </p>
        )}
      </div>
      <form
        class="filters"
        role="search"
        aria-label="Find users"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(href({ email: form.email.trim(), group: form.group, is_active: form.active, page: undefined }));
        }}
      >
        <Field label="Email contains" type="search" value={form.email} onInput={(e) => setForm({ ...form, email: e.currentTarget.value })} error={emailErr} />
        <SelectField label="Group" value={form.group} onChange={(e) => setForm({ ...form, group: e.currentTarget.value })}>
          <option value="">Any group</option>
          {GROUPS.map((x) => (
            <option key={x} value={x}>
              {GROUP_LABEL[x]}
            </option>
          ))}
        </SelectField>
        <SelectField label="Status" value={form.active} onChange={(e) => setForm({ ...form, active: e.currentTarget.value })}>
          <option value="">Active or not</option>
          <option value="true">Active</option>
          <option value="false">Inactive</option>
        </SelectField>
        <div class="row filters-actions">
          <button type="submit" class="btn btn-primary">
            Apply filters
          </button>
          {filtered && (
            <a class="btn" href="/admin/users">
              Clear
            </a>
          )}
        </div>
      </form>
      <ErrorMessage error={emailErr ? null : list.error} retry={list.reload} />
      {list.loading && !list.data && <Loading />}
      {list.data &&
        (list.data.items.length === 0 ? (
          <Empty>{filtered ? 'No account matches these filters.' : 'No accounts yet.'}</Empty>
        ) : (
          <div class="table-wrap">
            <table class="users stack-table">
              <caption class="visually-hidden">Users, page {page}</caption>
              <thead>
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col">Group</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((u) => (
                  <UserRow
                    key={u.id}
                    user={u}
                    me={s.user?.id === u.id}
                    onChanged={(n) => {
                      if (list.data) list.set({ ...list.data, items: list.data.items.map((x) => (x.id === n.id ? n : x)) });
                    }}
                  />
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {list.data && <Pagination page={page} totalPages={list.data.total_pages} hrefFor={(p) => href({ page: p })} />}
    </section>
  );
}
