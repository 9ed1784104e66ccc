// Shared by the commerce pages (cart, orders, payments, purchases): the words
// for the API's statuses and reasons, and what the cart tells the order page
// about the movies an order left out.
import type { ComponentChildren } from 'preact';
import { useId, useRef, useState } from 'preact/hooks';
import type { Schemas } from '../../api/client';
import '../../styles/commerce.css';

export type Order = Schemas['Order'];
export type OrderStatus = Order['status'];
export type Exclusion = Schemas['OrderExclusion'];
export type Payment = Schemas['Payment'];

export const ORDER_STATUS: Record<OrderStatus, string> = {
  pending: 'Pending payment',
  paid: 'Paid',
  canceled: 'Canceled',
};

export function OrderStatusBadge({ status }: { status: OrderStatus }) {
  return <span class={`status status-${status}`}>{ORDER_STATUS[status]}</span>;
}

export const PAYMENT_STATUS: Record<Payment['status'], string> = {
  successful: 'Successful',
  canceled: 'Canceled',
  refunded: 'Refunded',
  refund_pending: 'Being refunded',
};

export function PaymentStatusBadge({ status }: { status: Payment['status'] }) {
  return <span class={`status status-${status}`}>{PAYMENT_STATUS[status]}</span>;
}

/** Why a payment could not buy its order (refund_reason), as a sentence. */
export function refundReason(reason: Payment['refund_reason']): string | null {
  switch (reason) {
    case 'order_canceled':
      return 'The order had been canceled before the payment arrived, so it is refunded automatically.';
    case 'order_already_paid':
      return 'The order was already paid through another checkout, so this payment is refunded automatically.';
    case 'amount_mismatch':
      return 'The order’s total had changed, so this payment is refunded automatically.';
    default:
      return null;
  }
}

/** Why placeOrder left a cart movie out (OrderExclusion.reason). */
export function exclusionReason(reason: Exclusion['reason']): string {
  switch (reason) {
    case 'already_purchased':
      return 'You already own this movie (it is in My movies); repeat purchases are not allowed.';
    case 'in_pending_order':
      return 'It is already in another of your orders waiting for payment: pay that order to get it.';
    case 'not_available':
      return 'It cannot be sold at the moment.';
  }
}

export interface ExcludedMovie extends Exclusion {
  /** From the cart as it was shown; null when the cart did not list it. */
  name: string | null;
}

/** Set by the cart after placing an order, read once by that order's page. */
const placed = new Map<number, ExcludedMovie[]>();

export function rememberExcluded(orderId: number, excluded: ExcludedMovie[]): void {
  if (excluded.length) placed.set(orderId, excluded);
}

export function takeExcluded(orderId: number): ExcludedMovie[] {
  const e = placed.get(orderId) ?? [];
  placed.delete(orderId);
  return e;
}

/** The movies an order left out, each with the API's reason in words. */
export function ExcludedList({ excluded }: { excluded: ExcludedMovie[] }) {
  return (
    <ul class="excluded">
      {excluded.map((x) => (
        <li key={x.movie_id}>
          <a href={`/movies/${x.movie_id}`}>{x.name ?? `Movie #${x.movie_id}`}</a>: {exclusionReason(x.reason)}
          {x.reason === 'in_pending_order' && (
            <>
              {' '}
              <a href="/orders">See your orders</a>.
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Order numbers as people read them. */
export function orderLabel(id: number): string {
  return `Order #${id}`;
}

/**
 * A button that asks before doing something hard to undo: it opens a
 * question with a confirm and a keep button below it (aria-expanded), and
 * gives the focus back to itself when the question is closed.
 */
export function ConfirmAction({
  label,
  question,
  confirmLabel,
  busyLabel,
  keepLabel,
  busy,
  disabled,
  onConfirm,
  toggleClass = 'btn',
}: {
  toggleClass?: string;
  label: string;
  question: ComponentChildren;
  confirmLabel: string;
  busyLabel: string;
  keepLabel: string;
  busy: boolean;
  disabled: boolean;
  onConfirm: () => void;
}) {
  const [open, setOpen] = useState(false);
  const toggle = useRef<HTMLButtonElement>(null);
  const id = useId();
  const close = () => {
    setOpen(false);
    toggle.current?.focus();
  };
  return (
    <>
      <button
        ref={toggle}
        type="button"
        class={toggleClass}
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        disabled={disabled && !open}
        onClick={() => (open ? close() : setOpen(true))}
      >
        {label}
      </button>
      {open && (
        <div id={id} class="confirm" role="group" aria-labelledby={`${id}-q`}>
          <p id={`${id}-q`}>{question}</p>
          <div class="row">
            <button type="button" class="btn btn-danger" disabled={busy || disabled} onClick={onConfirm}>
              {busy ? busyLabel : confirmLabel}
            </button>
            <button type="button" class="btn" onClick={close}>
              {keepLabel}
            </button>
          </div>
        </div>
      )}
    </>
  );
}
