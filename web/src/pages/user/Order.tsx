// One order: its movies, total and status, and what can be done with it.
// Pending: "Pay" (a Stripe Checkout Session; the window goes to Stripe's
// page) and "Cancel order". Paid: a refund request. Stripe sends the buyer
// back to ?checkout=success (we poll until the webhook has marked the order
// paid) or ?checkout=cancel (the order stays pending; pay again).
import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import { ApiError } from '../../api/errors';
import type { PageProps } from '../../routes';
import { useLocation } from '../../router';
import { ErrorMessage, Loading, Notice } from '../../ui/common';
import { dateTime, money } from '../../ui/format';
import { useAsync, useTitle } from '../../ui/hooks';
import {
  ConfirmAction,
  ExcludedList,
  OrderStatusBadge,
  PaymentStatusBadge,
  orderLabel,
  refundReason,
  takeExcluded,
  type Order,
  type Payment,
} from './commerce';

/** How often and how long the return page asks whether the webhook has landed. */
const POLL_MS = 1_000;
const POLL_FOR_MS = 20_000;

type Busy = 'pay' | 'cancel' | 'refund' | null;
type Confirming = 'idle' | 'waiting' | 'slow';

function getOrder(id: number): Promise<Order> {
  return call(api.GET('/api/v1/orders/{id}', { params: { path: { id } } }));
}

/** The payments of this order (the API lists them per user, newest first). */
async function paymentsOf(id: number): Promise<Payment[]> {
  const page = await call(api.GET('/api/v1/payments', { params: { query: { per_page: 100 } } }));
  return page.items.filter((p) => p.order_id === id);
}

export default function OrderPage({ params }: PageProps) {
  const raw = params.id ?? '';
  const valid = /^[1-9][0-9]{0,17}$/.test(raw);
  const id = valid ? Number(raw) : 0;
  useTitle(valid ? orderLabel(id) : 'Order not found');
  if (!valid) return <OrderNotFound />;
  return <OrderView key={id} id={id} />;
}

function OrderNotFound() {
  return (
    <section class="page narrow">
      <h1>Order not found</h1>
      <p>
        You have no order at this address. See <a href="/orders">your orders</a>.
      </p>
    </section>
  );
}

function OrderView({ id }: { id: number }) {
  const { query } = useLocation();
  const checkout = query.get('checkout');
  const order = useAsync(() => getOrder(id), [id]);
  const payments = useAsync(() => paymentsOf(id), [id]);
  const [excluded] = useState(() => takeExcluded(id));
  const [busy, setBusy] = useState<Busy>(null);
  const [actionError, setActionError] = useState<{ on: Busy; error: unknown } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [refundRequested, setRefundRequested] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<Confirming>('idle');
  const [round, setRound] = useState(0);
  const o = order.data;

  // Back from Stripe with ?checkout=success: the webhook may land a moment
  // after the redirect, so ask again every second for a while.
  useEffect(() => {
    if (checkout !== 'success') return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = Date.now();
    setConfirming('waiting');
    const tick = async () => {
      try {
        const fresh = await getOrder(id);
        if (!live) return;
        order.set(fresh);
        if (fresh.status !== 'pending') {
          setConfirming('idle');
          payments.reload();
          return;
        }
      } catch {
        // A failed look is not an answer: keep asking until the time is up.
      }
      if (!live) return;
      if (Date.now() - started >= POLL_FOR_MS) {
        setConfirming('slow');
        return;
      }
      timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [checkout, id, round]);

  // Coming back to this page from Stripe with the back button (bfcache): the buttons work again.
  useEffect(() => {
    const shown = (e: PageTransitionEvent) => {
      if (e.persisted) setBusy(null);
    };
    window.addEventListener('pageshow', shown);
    return () => window.removeEventListener('pageshow', shown);
  }, []);

  async function pay() {
    setBusy('pay');
    setActionError(null);
    setNotice(null);
    try {
      const s = await call(api.POST('/api/v1/orders/{id}/checkout', { params: { path: { id } } }));
      window.location.assign(s.checkout_url);
    } catch (e) {
      setBusy(null);
      if (e instanceof ApiError && e.status === 409) {
        order.reload();
        if (e.code === 'price_changed') {
          setNotice(e.message);
          return;
        }
      }
      setActionError({ on: 'pay', error: e });
    }
  }

  async function cancel() {
    setBusy('cancel');
    setActionError(null);
    setNotice(null);
    try {
      const r = await call(api.POST('/api/v1/orders/{id}/cancel', { params: { path: { id } } }));
      order.set(r.order);
      setNotice('The order is canceled. Its movies can be added to your cart again.');
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        order.reload();
        payments.reload();
      }
      setActionError({ on: 'cancel', error: e });
    } finally {
      setBusy(null);
    }
  }

  async function refund() {
    setBusy('refund');
    setActionError(null);
    setNotice(null);
    try {
      const r = await call(api.POST('/api/v1/orders/{id}/refund', { params: { path: { id } } }));
      order.set(r.order);
      setRefundRequested(r.detail);
      payments.reload();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) order.reload();
      setActionError({ on: 'refund', error: e });
    } finally {
      setBusy(null);
    }
  }

  if (order.error instanceof ApiError && order.error.status === 404) return <OrderNotFound />;

  const paid = payments.data ?? [];
  const refunded = paid.some((p) => p.status === 'refunded');
  const errorFor = (on: Busy) => (actionError?.on === on ? actionError.error : null);

  return (
    <section class="page order-page">
      <p class="back">
        <a href="/orders">← Your orders</a>
      </p>
      <div class="page-head">
        <h1>{orderLabel(id)}</h1>
        {o && <OrderStatusBadge status={o.status} />}
      </div>
      <ErrorMessage error={order.error} retry={order.reload} />
      {order.loading && !o && <Loading label="Loading the order…" />}
      {o && (
        <>
          <p class="muted">Placed {dateTime(o.created_at)}</p>

          {checkout === 'success' && o.status === 'paid' && (
            <Notice kind="success">
              <p>
                <strong>Payment received.</strong> Thank you! Your movies are in <a href="/purchases">My movies</a>, and a
                confirmation is on its way to your email.
              </p>
            </Notice>
          )}
          {checkout === 'success' && o.status === 'pending' && confirming !== 'slow' && <Loading label="Confirming your payment…" />}
          {checkout === 'success' && o.status === 'pending' && confirming === 'slow' && (
            <Notice kind="info">
              <p>
                Your payment is still processing. We will email you as soon as it is confirmed, and your movies will appear in My
                movies; there is no need to pay again.
              </p>
              <button type="button" class="btn btn-small" onClick={() => setRound((r) => r + 1)}>
                Check again
              </button>
            </Notice>
          )}
          {checkout === 'success' && o.status === 'canceled' && !refunded && (
            <Notice kind="warning">
              <p>This order was canceled. If a payment reached us for it, it is refunded automatically (see below).</p>
            </Notice>
          )}
          {checkout === 'cancel' && o.status === 'pending' && (
            <Notice kind="warning">
              <p>
                <strong>Payment canceled — your order is still pending.</strong> Nothing was charged. You can pay again
                whenever you like, or cancel the order.
              </p>
            </Notice>
          )}

          {excluded.length > 0 && (
            <div class="alert alert-info" role="status">
              <p>
                {excluded.length === 1 ? 'One movie of your cart was' : `${excluded.length} movies of your cart were`} left
                out of this order and removed from your cart:
              </p>
              <ExcludedList excluded={excluded} />
            </div>
          )}

          {o.status === 'pending' && o.payment_hint && (
            <Notice kind="warning">
              <p>{o.payment_hint}</p>
            </Notice>
          )}
          {notice && (
            <Notice kind="info">
              <p>{notice}</p>
            </Notice>
          )}

          <div class="table-wrap order-items">
            <table>
              <caption class="visually-hidden">Movies in this order</caption>
              <thead>
                <tr>
                  <th scope="col">Movie</th>
                  <th scope="col" class="num">
                    Price
                  </th>
                </tr>
              </thead>
              <tbody>
                {o.items.map((i) => (
                  <tr key={i.movie_id}>
                    <td>
                      <a href={`/movies/${i.movie_id}`}>{i.name}</a>
                    </td>
                    <td class="num">{money(i.price_at_order)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">Total</th>
                  <td class="num">
                    <strong>{money(o.total_amount)}</strong>
                  </td>
                </tr>
              </tfoot>
            </table>
          </div>

          {o.status === 'pending' && !(checkout === 'success' && confirming === 'waiting') && (
            <section class="order-actions" aria-labelledby="pay-title">
              <h2 id="pay-title">Payment</h2>
              <p class="hint">
                You pay on Stripe’s secure page and come back here. Prices are checked again first: if one changed, the order
                takes the new price and we ask you to confirm.
              </p>
              <div class="row">
                <button type="button" class="btn btn-primary" disabled={busy !== null} onClick={() => void pay()}>
                  {busy === 'pay' ? 'Opening the payment page…' : checkout === 'cancel' ? 'Pay again' : 'Pay'}
                </button>
                <ConfirmAction
                  label="Cancel order"
                  question="Cancel this order? Its payment link stops working. An order can be canceled until it is paid; after that, only a refund undoes it."
                  confirmLabel="Yes, cancel the order"
                  busyLabel="Canceling…"
                  keepLabel="Keep the order"
                  busy={busy === 'cancel'}
                  disabled={busy !== null}
                  onConfirm={() => void cancel()}
                />
              </div>
              <ErrorMessage error={errorFor('pay')} />
              <ErrorMessage error={errorFor('cancel')} />
            </section>
          )}

          {o.status === 'paid' && (
            <section class="order-actions" aria-labelledby="refund-title">
              <h2 id="refund-title">Refund</h2>
              {refundRequested ? (
                <Notice kind="success">
                  <p>{refundRequested}</p>
                </Notice>
              ) : (
                <>
                  <p class="hint">
                    A refund gives back the whole amount of this order. The movies leave My movies once the payment provider
                    confirms it, and the order becomes canceled.
                  </p>
                  <ConfirmAction
                    label="Request a refund"
                    question={`Request a refund of ${money(o.total_amount)} for this order?`}
                    confirmLabel="Yes, request the refund"
                    busyLabel="Requesting…"
                    keepLabel="Keep the order"
                    busy={busy === 'refund'}
                    disabled={busy !== null}
                    onConfirm={() => void refund()}
                  />
                </>
              )}
              <ErrorMessage error={errorFor('refund')} />
            </section>
          )}

          {o.status === 'canceled' && (
            <p class="muted">
              {refunded
                ? 'This order was refunded: its payment was given back and its movies left My movies.'
                : 'This order is canceled. Its movies can be added to your cart again.'}
            </p>
          )}

          {paid.length > 0 && (
            <section class="order-payments" aria-labelledby="payments-title">
              <h2 id="payments-title">Payments for this order</h2>
              <ul class="plain-list">
                {paid.map((p) => {
                  const why = refundReason(p.refund_reason);
                  return (
                    <li key={p.id}>
                      <PaymentStatusBadge status={p.status} /> {money(p.amount)} on {dateTime(p.created_at)}
                      {why && <p class="payment-why">{why}</p>}
                    </li>
                  );
                })}
              </ul>
              <p>
                <a href="/payments">Payment history</a>
              </p>
            </section>
          )}
        </>
      )}
    </section>
  );
}
