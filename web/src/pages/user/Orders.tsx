// The user's orders, newest first: status, total, date, and a link to each.
import { api, call } from '../../api/client';
import { queryString, useLocation } from '../../router';
import { Empty, ErrorMessage, Loading, Pagination } from '../../ui/common';
import { dateTime, money } from '../../ui/format';
import { useAsync, useTitle } from '../../ui/hooks';
import { OrderStatusBadge, orderLabel } from './commerce';

export default function Orders() {
  useTitle('Orders');
  const { query } = useLocation();
  const page = Math.max(1, Number(query.get('page') ?? '1') || 1);
  const list = useAsync(() => call(api.GET('/api/v1/orders', { params: { query: { page } } })), [page]);
  const d = list.data;
  return (
    <section class="page">
      <div class="page-head">
        <h1>Your orders</h1>
        {d && d.total_items > 0 && (
          <p class="muted">
            {d.total_items} {d.total_items === 1 ? 'order' : 'orders'}
          </p>
        )}
      </div>
      <ErrorMessage error={list.error} retry={list.reload} />
      {list.loading && !d && <Loading label="Loading your orders…" />}
      {d && d.items.length === 0 && (
        <Empty>
          {page > 1 ? (
            <p>
              There is no page {page}. <a href="/orders">Back to the first page</a>.
            </p>
          ) : (
            <>
              <p>You have not ordered anything yet.</p>
              <p>
                <a href="/movies">Find a movie</a>, add it to your <a href="/cart">cart</a> and place an order.
              </p>
            </>
          )}
        </Empty>
      )}
      {d && d.items.length > 0 && (
        <div class="table-wrap">
          <table class="orders-table stack-table">
            <caption class="visually-hidden">Your orders, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Date</th>
                <th scope="col">Movies</th>
                <th scope="col" class="num">
                  Total
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {d.items.map((o) => (
                <tr key={o.id}>
                  <th scope="row">
                    <a href={`/orders/${o.id}`}>{orderLabel(o.id)}</a>
                  </th>
                  <td data-label="Date">{dateTime(o.created_at)}</td>
                  <td class="orders-movies" data-label="Movies">
                    {o.items.map((i) => i.name).join(', ') || <span class="muted">none</span>}
                  </td>
                  <td class="num" data-label="Total">{money(o.total_amount)}</td>
                  <td data-label="Status">
                    <span class="cell">
                      <OrderStatusBadge status={o.status} />
                      {o.status === 'pending' && (
                        <a href={`/orders/${o.id}`} aria-label={`Pay ${orderLabel(o.id)}`}>
                          Pay
                        </a>
                      )}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {d && <Pagination page={page} totalPages={d.total_pages} hrefFor={(p) => `/orders${queryString({ page: p })}`} />}
    </section>
  );
}
