// Pieces the account pages share: the password rules shown as you type (the
// `Password` schema of openapi.yaml), the safe "next" address after sign-in,
// and the email typed on one page remembered (in memory) for the next one.
import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import { ErrorMessage, Field, FormError, Notice, fieldError } from '../../ui/common';
import '../../styles/accounts.css';
import { passwordRules } from './rules';

export { passwordOk, passwordRules, safeNext } from './rules';

/** The rules as a checklist, each ticked once the password satisfies it. */
export function PasswordRules({ value }: { value: string }) {
  return (
    <>
      <span>The password needs:</span>
      <ul class="rules">
        {passwordRules(value).map((r) => (
          <li key={r.key} class={r.ok ? 'ok' : undefined}>
            {r.label}
            <span class="visually-hidden">{r.ok ? ' (done)' : ' (missing)'}</span>
          </li>
        ))}
      </ul>
    </>
  );
}

let rememberedEmail = '';
/** The email last typed on an account page, so the next page can fill it in (memory only). */
export function rememberEmail(email?: string): string {
  if (email !== undefined) rememberedEmail = email.trim();
  return rememberedEmail;
}

/** A narrow page with its one h1. */
export function AccountPage({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="page narrow account-page">
      <h1>{title}</h1>
      {children}
    </section>
  );
}

/** After a failed submit, moves focus to the first field marked invalid (else to the form's alert). */
export function focusFirstInvalid(form: HTMLFormElement | null): void {
  if (!form) return;
  requestAnimationFrame(() => {
    const el = form.querySelector<HTMLElement>('[aria-invalid="true"]') ?? form.querySelector<HTMLElement>('[role="alert"]');
    if (el && !el.hasAttribute('tabindex') && el.getAttribute('role') === 'alert') el.setAttribute('tabindex', '-1');
    el?.focus();
  });
}

/** A button that sends the activation email again to `email` and says what the server answered. */
export function ResendActivation({ email, label = 'Send the activation link again' }: { email: string; label?: string }) {
  const [state, setState] = useState<{ busy: boolean; done: string; error: unknown }>({ busy: false, done: '', error: null });
  const send = async () => {
    setState({ busy: true, done: '', error: null });
    try {
      const r = await call(api.POST('/api/v1/accounts/activation/resend', { body: { email } }));
      setState({ busy: false, done: r.detail, error: null });
    } catch (e) {
      setState({ busy: false, done: '', error: e });
    }
  };
  return (
    <div class="resend">
      <button type="button" class="btn" disabled={state.busy} onClick={() => void send()}>
        {state.busy ? 'Sending…' : label}
      </button>
      {state.done && <Notice kind="success">{state.done}</Notice>}
      <ErrorMessage error={state.error} />
    </div>
  );
}

/** One email field, a button, the server's answer or its error. */
export function EmailForm({ button, send }: { button: string; send: (email: string) => Promise<string> }) {
  const [email, setEmail] = useState(rememberEmail());
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');
  const form = useRef<HTMLFormElement>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setDone('');
    try {
      setDone(await send(email.trim()));
      rememberEmail(email);
    } catch (err) {
      setError(err);
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" ref={form} noValidate onSubmit={(e) => void submit(e)}>
      <FormError error={error} shown={['email']} />
      {done && <Notice kind="success">{done}</Notice>}
      <Field
        label="Email"
        type="email"
        name="email"
        autoComplete="email"
        required
        value={email}
        error={fieldError(error, 'email')}
        onInput={(e) => setEmail(e.currentTarget.value)}
      />
      <div class="row">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? 'Sending…' : button}
        </button>
      </div>
    </form>
  );
}

/**
 * A new password with its rules ticked as you type, and its confirmation;
 * the confirmation's error clears once the two agree.
 */
export function NewPasswordFields(p: {
  label: string;
  confirmLabel: string;
  name: string;
  password: string;
  setPassword: (v: string) => void;
  error: string | undefined;
  confirm: string;
  setConfirm: (v: string) => void;
  confirmError: string;
  setConfirmError: (v: string) => void;
}) {
  return (
    <>
      <Field
        label={p.label}
        type="password"
        name={p.name}
        autoComplete="new-password"
        required
        value={p.password}
        error={p.error}
        hint={<PasswordRules value={p.password} />}
        onInput={(e) => p.setPassword(e.currentTarget.value)}
      />
      <Field
        label={p.confirmLabel}
        type="password"
        name="confirm"
        autoComplete="new-password"
        required
        value={p.confirm}
        error={p.confirmError || undefined}
        onInput={(e) => {
          p.setConfirm(e.currentTarget.value);
          if (p.confirmError && e.currentTarget.value === p.password) p.setConfirmError('');
        }}
      />
    </>
  );
}
