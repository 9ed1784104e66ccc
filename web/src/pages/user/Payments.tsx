// The user's payments, newest first: status (and why an automatic refund
// happened), amount, the order it paid, the date and what it bought.
import { api, call } from '../../api/client';
import { queryString, useLocation } from '../../router';
import { Empty, ErrorMessage, Loading, Pagination } from '../../ui/common';
import { dateTime, money } from '../../ui/format';
import { useAsync, useTitle } from '../../ui/hooks';
import { PaymentStatusBadge, orderLabel, refundReason } from './commerce';

export default function Payments() {
  useTitle('Payments');
  const { query } = useLocation();
  const page = Math.max(1, Number(query.get('page') ?? '1') || 1);
  const list = useAsync(() => call(api.GET('/api/v1/payments', { params: { query: { page } } })), [page]);
  const d = list.data;
  return (
    <section class="page">
      <div class="page-head">
        <h1>Payment history</h1>
        {d && d.total_items > 0 && (
          <p class="muted">
            {d.total_items} {d.total_items === 1 ? 'payment' : 'payments'}
          </p>
        )}
      </div>
      <ErrorMessage error={list.error} retry={list.reload} />
      {list.loading && !d && <Loading label="Loading your payments…" />}
      {d && d.items.length === 0 && (
        <Empty>
          {page > 1 ? (
            <p>
              There is no page {page}. <a href="/payments">Back to the first page</a>.
            </p>
          ) : (
            <p>
              No payments yet. Pay a pending order from <a href="/orders">your orders</a>.
            </p>
          )}
        </Empty>
      )}
      {d && d.items.length > 0 && (
        <div class="table-wrap">
          <table class="payments-table stack-table">
            <caption class="visually-hidden">Your payments, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Order</th>
                <th scope="col">Movies</th>
                <th scope="col" class="num">
                  Amount
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {d.items.map((p) => {
                const why = refundReason(p.refund_reason);
                return (
                  <tr key={p.id}>
                    <td data-label="Date">{dateTime(p.created_at)}</td>
                    <td data-label="Order">
                      <a href={`/orders/${p.order_id}`}>{orderLabel(p.order_id)}</a>
                    </td>
                    <td class="orders-movies" data-label="Movies">
                      {p.items.length ? p.items.map((i) => i.name).join(', ') : <span class="muted">nothing bought</span>}
                    </td>
                    <td class="num" data-label="Amount">{money(p.amount)}</td>
                    <td data-label="Status">
                      <span class="cell">
                        <PaymentStatusBadge status={p.status} />
                        {why && <span class="payment-why">{why}</span>}
                      </span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {d && <Pagination page={page} totalPages={d.total_pages} hrefFor={(p) => `/payments${queryString({ page: p })}`} />}
    </section>
  );
}
