// /studio/sales?tab=carts|orders|payments: users' carts, every order and
// every payment, with each filter those operations have (user, status,
// days), the state in the URL, pages and totals.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import { navigate, queryString, useLocation } from '../../router';
import { Empty, ErrorMessage, Field, Loading, Pagination, SelectField } from '../../ui/common';
import { dateTime, money } from '../../ui/format';
import { useAsync, useTitle } from '../../ui/hooks';
import { intParam, StudioPage, useChanged } from './common';

type Tab = 'carts' | 'orders' | 'payments';
const TABS: [Tab, string][] = [
  ['carts', 'Carts'],
  ['orders', 'Orders'],
  ['payments', 'Payments'],
];
const ORDER_STATUS = ['pending', 'paid', 'canceled'] as const;
const PAYMENT_STATUS = ['successful', 'canceled', 'refunded', 'refund_pending'] as const;
type OrderStatus = (typeof ORDER_STATUS)[number];
type PaymentStatus = (typeof PAYMENT_STATUS)[number];

const STATUS_LABEL: Record<string, string> = {
  pending: 'Pending',
  paid: 'Paid',
  canceled: 'Canceled',
  successful: 'Successful',
  refunded: 'Refunded',
  refund_pending: 'Refund pending',
};

const REFUND_REASON: Record<string, string> = {
  order_canceled: 'the order was canceled',
  order_already_paid: 'the order was already paid',
  amount_mismatch: 'the amount no longer matched the order',
};

interface Filters {
  user_id: string;
  status: string;
  date_from: string;
  date_to: string;
}

type Page<T> = { items: T[]; page: number; total_items: number; total_pages: number };

function sum(amounts: string[]): string {
  // Money strings with two decimals: add in cents to stay exact.
  const cents = amounts.reduce((t, a) => t + Math.round(Number(a) * 100), 0);
  return (cents / 100).toFixed(2);
}

function Status({ s }: { s: string }) {
  return <span class={`status status-${s}`}>{STATUS_LABEL[s] ?? s}</span>;
}

function UserCell({ id, email, href }: { id: number; email: string; href: (id: number) => string }) {
  return (
    <>
      <span class="cell-email">{email}</span>{' '}
      <a href={href(id)} aria-label={`Only user #${id} (${email})`} title="Only this user">
        #{id}
      </a>
    </>
  );
}

function Table({ caption, head, children }: { caption: string; head: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={caption} tabIndex={0}>
      <table class="stack-table">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h} scope="col" class={h === 'Total' || h === 'Amount' ? 'num' : undefined}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

function Carts({ data, userHref }: { data: Page<Schemas['AdminCart']>; userHref: (id: number) => string }) {
  return (
    <Table caption="Carts" head={['User', 'Movies', 'Total']}>
      {data.items.map((c) => (
        <tr key={c.user_id}>
          <td data-label="User"><div>
            <UserCell id={c.user_id} email={c.email} href={userHref} />
          </div></td>
          <td data-label="Movies"><div>
            <ul class="plain">
              {c.items.map((i) => (
                <li key={i.movie_id}>
                  <a href={`/movies/${i.movie_id}`}>{i.name}</a> <span class="muted">({money(i.price)}, added {dateTime(i.added_at)})</span>
                </li>
              ))}
            </ul>
          </div></td>
          <td class="num" data-label="Total"><div>{money(c.total)}</div></td>
        </tr>
      ))}
    </Table>
  );
}

function Orders({ data, userHref }: { data: Page<Schemas['AdminOrder']>; userHref: (id: number) => string }) {
  return (
    <Table caption="Orders" head={['Order', 'Placed', 'User', 'Status', 'Movies', 'Total']}>
      {data.items.map((o) => (
        <tr key={o.id}>
          <td data-label="Order"><div>#{o.id}</div></td>
          <td data-label="Placed"><div>{dateTime(o.created_at)}</div></td>
          <td data-label="User"><div>
            <UserCell id={o.user_id} email={o.email} href={userHref} />
          </div></td>
          <td data-label="Status"><div>
            <Status s={o.status} />
          </div></td>
          <td data-label="Movies"><div>
            <ul class="plain">
              {o.items.map((i) => (
                <li key={i.movie_id}>
                  {i.name} <span class="muted">({money(i.price_at_order)})</span>
                </li>
              ))}
            </ul>
          </div></td>
          <td class="num" data-label="Total"><div>{money(o.total_amount)}</div></td>
        </tr>
      ))}
    </Table>
  );
}

function Payments({ data, userHref }: { data: Page<Schemas['AdminPayment']>; userHref: (id: number) => string }) {
  return (
    <Table caption="Payments" head={['Payment', 'Date', 'User', 'Order', 'Status', 'Movies', 'Amount']}>
      {data.items.map((p) => (
        <tr key={p.id}>
          <td data-label="Payment"><div>
            #{p.id}
            {p.external_payment_id && <div class="muted small">{p.external_payment_id}</div>}
          </div></td>
          <td data-label="Date"><div>{dateTime(p.created_at)}</div></td>
          <td data-label="User"><div>
            <UserCell id={p.user_id} email={p.email} href={userHref} />
          </div></td>
          <td data-label="Order"><div>#{p.order_id}</div></td>
          <td data-label="Status"><div>
            <Status s={p.status} />
            {p.refund_reason && <div class="muted small">Refund because {REFUND_REASON[p.refund_reason] ?? p.refund_reason}</div>}
            {p.refund_error && (
              <div class="small text-warn">
                Last refund attempt failed ({p.refund_error}); {p.refund_attempts} attempt{p.refund_attempts === 1 ? '' : 's'} so far
              </div>
            )}
          </div></td>
          <td data-label="Movies"><div>
            <ul class="plain">
              {p.items.map((i) => (
                <li key={i.order_item_id}>
                  {i.name} <span class="muted">({money(i.price_at_payment)})</span>
                </li>
              ))}
            </ul>
          </div></td>
          <td class="num" data-label="Amount"><div>{money(p.amount)}</div></td>
        </tr>
      ))}
    </Table>
  );
}

type Loaded =
  | { tab: 'carts'; data: Page<Schemas['AdminCart']> }
  | { tab: 'orders'; data: Page<Schemas['AdminOrder']> }
  | { tab: 'payments'; data: Page<Schemas['AdminPayment']> };

function load(tab: Tab, f: Filters, page: number): Promise<Loaded> {
  const user_id = f.user_id ? Number(f.user_id) : undefined;
  const date_from = f.date_from || undefined;
  const date_to = f.date_to || undefined;
  if (tab === 'carts')
    return call(api.GET('/api/v1/admin/carts', { params: { query: { user_id, page } } })).then((data) => ({ tab, data }));
  if (tab === 'orders') {
    const status = (ORDER_STATUS as readonly string[]).includes(f.status) ? (f.status as OrderStatus) : undefined;
    return call(api.GET('/api/v1/admin/orders', { params: { query: { user_id, status, date_from, date_to, page } } })).then((data) => ({
      tab,
      data,
    }));
  }
  const status = (PAYMENT_STATUS as readonly string[]).includes(f.status) ? (f.status as PaymentStatus) : undefined;
  return call(api.GET('/api/v1/admin/payments', { params: { query: { user_id, status, date_from, date_to, page } } })).then((data) => ({
    tab,
    data,
  }));
}

export default function Sales() {
  const { query } = useLocation();
  const t = query.get('tab');
  const tab: Tab = t === 'orders' || t === 'payments' ? t : 'carts';
  const page = intParam(query.get('page'), 1);
  const applied: Filters = {
    user_id: query.get('user_id') ?? '',
    status: tab === 'carts' ? '' : (query.get('status') ?? ''),
    date_from: tab === 'carts' ? '' : (query.get('date_from') ?? ''),
    date_to: tab === 'carts' ? '' : (query.get('date_to') ?? ''),
  };
  const [form, setForm] = useState<Filters>(applied);
  const [local, setLocal] = useState<string | null>(null);
  const key = `${tab}|${applied.user_id}|${applied.status}|${applied.date_from}|${applied.date_to}|${page}`;
  useChanged(key, () => {
    setForm(applied);
    setLocal(null);
  });
  useTitle(`Studio: sales, ${tab}`);

  const res = useAsync(() => {
    if (applied.user_id && !/^[1-9]\d{0,17}$/.test(applied.user_id))
      return Promise.reject(new ApiError(422, 'validation_failed', 'The request has invalid fields.', [{ field: 'user_id', message: 'must be a whole number from 1' }]));
    return load(tab, applied, page);
  }, [key]);

  const href = (p: Partial<Filters & { tab: Tab; page: number }>) => {
    const next = { tab, ...applied, page: page > 1 ? page : undefined, ...p };
    const carts = next.tab === 'carts';
    return `/studio/sales${queryString({
      tab: next.tab,
      user_id: next.user_id,
      status: carts ? undefined : next.status,
      date_from: carts ? undefined : next.date_from,
      date_to: carts ? undefined : next.date_to,
      page: next.page,
    })}`;
  };

  const userHref = (id: number) => href({ user_id: String(id), page: undefined });
  const fieldErr = (name: string) => (res.error instanceof ApiError && res.error.status === 422 ? res.error.field(name) : undefined);
  const shownFields = ['user_id', 'status', 'date_from', 'date_to'];
  const otherError =
    res.error && !(res.error instanceof ApiError && res.error.status === 422 && Object.keys(res.error.fields).every((f) => shownFields.includes(f)))
      ? res.error
      : null;

  const data = res.data && res.data.tab === tab ? res.data : undefined;
  const noun = tab === 'carts' ? ['cart', 'carts'] : tab === 'orders' ? ['order', 'orders'] : ['payment', 'payments'];
  let pageTotal: string | null = null;
  if (data?.tab === 'carts') pageTotal = sum(data.data.items.map((c) => c.total));
  else if (data?.tab === 'orders') pageTotal = sum(data.data.items.map((o) => o.total_amount));
  else if (data?.tab === 'payments') pageTotal = sum(data.data.items.map((p) => p.amount));
  const filtered = Boolean(applied.user_id || applied.status || applied.date_from || applied.date_to);

  return (
    <StudioPage>
      <h1>Sales</h1>
      <nav aria-label="Sales">
        <ul class="tabs subtabs">
          {TABS.map(([k, label]) => (
            <li key={k}>
              <a href={href({ tab: k, page: undefined })} aria-current={k === tab ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <form
        class="filters"
        aria-label={`Filter ${noun[1]}`}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (form.date_from && form.date_to && form.date_to < form.date_from) {
            setLocal('The last day must not be before the first day.');
            return;
          }
          navigate(href({ ...form, user_id: form.user_id.trim(), page: undefined }));
        }}
      >
        <Field
          label="User id"
          inputMode="numeric"
          value={form.user_id}
          onInput={(e) => setForm({ ...form, user_id: e.currentTarget.value })}
          error={fieldErr('user_id')}
        />
        {tab !== 'carts' && (
          <>
            <SelectField label="Status" value={form.status} onChange={(e) => setForm({ ...form, status: e.currentTarget.value })} error={fieldErr('status')}>
              <option value="">Any status</option>
              {(tab === 'orders' ? ORDER_STATUS : PAYMENT_STATUS).map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABEL[s]}
                </option>
              ))}
            </SelectField>
            <Field
              label="From (UTC day)"
              type="date"
              value={form.date_from}
              onInput={(e) => setForm({ ...form, date_from: e.currentTarget.value })}
              error={fieldErr('date_from')}
            />
            <Field
              label="To (UTC day)"
              type="date"
              value={form.date_to}
              onInput={(e) => setForm({ ...form, date_to: e.currentTarget.value })}
              error={fieldErr('date_to') ?? local ?? undefined}
            />
          </>
        )}
        <div class="row filters-actions">
          <button type="submit" class="btn btn-primary">
            Apply filters
          </button>
          {filtered && (
            <a class="btn" href={href({ user_id: '', status: '', date_from: '', date_to: '', page: undefined })}>
              Clear
            </a>
          )}
        </div>
      </form>
      {tab === 'carts' && <p class="hint">Every cart that holds movies, newest first. Carts can be filtered by user only.</p>}
      <ErrorMessage error={otherError} retry={res.reload} />
      {res.loading && !data && <Loading />}
      {data && (
        <>
          <p class="sales-total" role="status">
            <strong>{data.data.total_items === 1 ? `1 ${noun[0]}` : `${data.data.total_items} ${noun[1]}`}</strong>
            {filtered ? (data.data.total_items === 1 ? ' matches the filters' : ' match the filters') : ''}
            {data.data.items.length > 0 && pageTotal !== null && (
              <>
                {' · '}
                {data.data.total_pages > 1 ? `total on this page (${data.data.items.length})` : 'total'}: <strong>{money(pageTotal)}</strong>
              </>
            )}
          </p>
          {data.data.items.length === 0 ? (
            <Empty>{filtered ? `No ${noun[0]} matches these filters.` : `No ${noun[1]} yet.`}</Empty>
          ) : data.tab === 'carts' ? (
            <Carts data={data.data} userHref={userHref} />
          ) : data.tab === 'orders' ? (
            <Orders data={data.data} userHref={userHref} />
          ) : (
            <Payments data={data.data} userHref={userHref} />
          )}
          <Pagination page={page} totalPages={data.data.total_pages} hrefFor={(p) => href({ page: p })} />
        </>
      )}
    </StudioPage>
  );
}
