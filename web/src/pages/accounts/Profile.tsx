// The signed-in user's profile: names, gender, date of birth, about;
// the email-notifications switch (saved at once); the avatar, previewed from
// the chosen file before it is uploaded. The API has no way to remove an
// avatar, only to replace it.
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import { session } from '../../session';
import { ErrorMessage, Field, FormError, Loading, Notice, SelectField, TextAreaField, fieldError } from '../../ui/common';
import { date } from '../../ui/format';
import { useAsync, useTitle } from '../../ui/hooks';
import { AccountPage, focusFirstInvalid } from './shared';

type Profile = Schemas['Profile'];
type Update = Schemas['ProfileUpdate'];

const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
/** AVATAR_MAX_BYTES's default; the server's own limit answers 413 when lower. */
const AVATAR_MAX = 2 * 1024 * 1024;

export default function ProfilePage() {
  useTitle('Profile');
  const me = useAsync(() => call(api.GET('/api/v1/accounts/me')), []);
  const user = me.data;
  const setProfile = (p: Profile) => {
    if (user) me.set({ ...user, profile: p });
    void session.reloadUser();
  };
  return (
    <AccountPage title="Profile">
      <ErrorMessage error={me.error} retry={me.reload} />
      {!user && me.loading && <Loading />}
      {user && (
        <>
          <dl class="account-facts">
            <dt>Email</dt>
            <dd>{user.email}</dd>
            <dt>Account</dt>
            <dd>
              {user.group === 'USER' ? 'User' : user.group === 'MODERATOR' ? 'Moderator' : 'Administrator'}, since{' '}
              {date(user.created_at)}
            </dd>
          </dl>
          <Avatar profile={user.profile} onSaved={setProfile} />
          <Notifications profile={user.profile} onSaved={setProfile} />
          <Details profile={user.profile} onSaved={setProfile} />
          <p class="muted">
            <a href="/accounts/password/change">Change your password</a>
          </p>
        </>
      )}
    </AccountPage>
  );
}

function Details({ profile, onSaved }: { profile: Profile; onSaved: (p: Profile) => void }) {
  const initial = {
    first_name: profile.first_name ?? '',
    last_name: profile.last_name ?? '',
    gender: profile.gender ?? '',
    date_of_birth: profile.date_of_birth ?? '',
    info: profile.info ?? '',
  };
  const [v, setV] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const set = (k: keyof typeof v, value: string) => {
    setV({ ...v, [k]: value });
    setSaved(false);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    // Only what changed; an emptied field clears it (null).
    const body: Update = {};
    const text = (k: 'first_name' | 'last_name' | 'info') => {
      const now = k === 'info' ? v[k] : v[k].trim();
      if (now !== (profile[k] ?? '')) body[k] = now === '' ? null : now;
    };
    text('first_name');
    text('last_name');
    text('info');
    if (v.gender !== (profile.gender ?? '')) body.gender = v.gender === 'MAN' || v.gender === 'WOMAN' ? v.gender : null;
    if (v.date_of_birth !== (profile.date_of_birth ?? '')) body.date_of_birth = v.date_of_birth || null;
    setError(null);
    setSaved(false);
    if (Object.keys(body).length === 0) {
      setSaved(true);
      return;
    }
    setBusy(true);
    try {
      const p = await call(api.PATCH('/api/v1/accounts/me/profile', { body }));
      onSaved(p);
      setSaved(true);
    } catch (err) {
      setError(err);
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form profile-form" ref={form} noValidate onSubmit={(e) => void submit(e)} aria-labelledby="details-h">
      <h2 id="details-h">About you</h2>
      <FormError error={error} shown={['first_name', 'last_name', 'gender', 'date_of_birth', 'info']} />
      {saved && <Notice kind="success">Profile saved.</Notice>}
      <div class="profile-names">
        <Field
          label="First name"
          name="first_name"
          autoComplete="given-name"
          maxLength={100}
          value={v.first_name}
          error={fieldError(error, 'first_name')}
          onInput={(e) => set('first_name', e.currentTarget.value)}
        />
        <Field
          label="Last name"
          name="last_name"
          autoComplete="family-name"
          maxLength={100}
          value={v.last_name}
          error={fieldError(error, 'last_name')}
          onInput={(e) => set('last_name', e.currentTarget.value)}
        />
      </div>
      <SelectField label="Gender" name="gender" value={v.gender} error={fieldError(error, 'gender')} onChange={(e) => set('gender', e.currentTarget.value)}>
        <option value="">Not said</option>
        <option value="WOMAN">Woman</option>
        <option value="MAN">Man</option>
      </SelectField>
      <Field
        label="Date of birth"
        type="date"
        name="date_of_birth"
        autoComplete="bday"
        min="1900-01-01"
        value={v.date_of_birth}
        error={fieldError(error, 'date_of_birth')}
        onInput={(e) => set('date_of_birth', e.currentTarget.value)}
      />
      <TextAreaField
        label="About me"
        name="info"
        maxLength={4096}
        rows={4}
        value={v.info}
        error={fieldError(error, 'info')}
        onInput={(e) => set('info', e.currentTarget.value)}
      />
      <div class="row">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save profile'}
        </button>
      </div>
    </form>
  );
}

function Notifications({ profile, onSaved }: { profile: Profile; onSaved: (p: Profile) => void }) {
  // Shown as chosen at once; put back if the server refuses.
  const [on, setOn] = useState(profile.email_notifications);
  const [error, setError] = useState<unknown>(null);
  const [said, setSaid] = useState('');
  const seq = useRef(0);
  const id = useId();
  const toggle = async (want: boolean) => {
    const n = ++seq.current;
    setOn(want);
    setError(null);
    setSaid('');
    try {
      const p = await call(api.PATCH('/api/v1/accounts/me/profile', { body: { email_notifications: want } }));
      if (n !== seq.current) return;
      onSaved(p);
      setOn(p.email_notifications);
      setSaid(p.email_notifications ? 'Saved: we will email you about replies and likes.' : 'Saved: no more emails about replies and likes.');
    } catch (err) {
      if (n !== seq.current) return;
      setOn(!want);
      setError(err);
    }
  };
  return (
    <section class="profile-section" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Email notifications</h2>
      <div class="check">
        <input type="checkbox" id={id} checked={on} onChange={(e) => void toggle(e.currentTarget.checked)} />
        <label for={id}>Email me when someone replies to or likes my comments</label>
      </div>
      <p class="muted small" role="status">
        {said}
      </p>
      <ErrorMessage error={error} />
    </section>
  );
}

function avatarProblem(f: File): string | null {
  if (!AVATAR_TYPES.includes(f.type)) return `“${f.name}” is not a PNG, JPEG or WebP image. Choose one of those.`;
  if (f.size > AVATAR_MAX) return `“${f.name}” is ${(f.size / 1024 / 1024).toFixed(1)} MB; the limit is 2 MB. Choose a smaller image.`;
  if (f.size === 0) return `“${f.name}” is empty.`;
  return null;
}

function uploadError(e: unknown): string | null {
  if (!(e instanceof ApiError)) return null;
  if (e.status === 413) return 'The image is larger than the server accepts (2 MB unless configured otherwise). Choose a smaller one.';
  if (e.status === 415) return 'The server accepts PNG, JPEG or WebP images only.';
  if (e.status === 422) return `The file ${e.field('body') ?? 'is not a valid image'}.`;
  if (e.code === 'storage_unavailable') return 'Avatar storage is unavailable just now; try again later.';
  return null;
}

function Avatar({ profile, onSaved }: { profile: Profile; onSaved: (p: Profile) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();

  // The object URL lives as long as its preview.
  useEffect(() => () => void (preview && URL.revokeObjectURL(preview)), [preview]);

  const choose = (f: File | null) => {
    setError(null);
    setSaved(false);
    setProblem(null);
    setFile(null);
    setPreview(null);
    if (!f) return;
    const why = avatarProblem(f);
    if (why) {
      setProblem(why);
      return;
    }
    setFile(f);
    setPreview(URL.createObjectURL(f));
  };

  const reset = () => {
    setFile(null);
    setPreview(null);
    if (input.current) input.current.value = '';
  };

  const upload = async () => {
    if (!file || busy) return;
    setBusy(true);
    setError(null);
    try {
      const p = await call(
        api.PUT('/api/v1/accounts/me/avatar', {
          // The body is the file itself, sent as is with its own type.
          body: '',
          bodySerializer: () => file,
          headers: { 'Content-Type': file.type },
        }),
      );
      onSaved(p);
      reset();
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const shown = preview ?? profile.avatar_url;
  const errText = problem ?? uploadError(error);
  return (
    <section class="profile-section" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Avatar</h2>
      <div class="avatar-row">
        {shown ? (
          <img class="avatar" src={shown} alt={preview ? 'Preview of the chosen image' : 'Your avatar'} width={96} height={96} />
        ) : (
          <span class="avatar avatar-empty" role="img" aria-label="No avatar yet">
            ?
          </span>
        )}
        <div class="avatar-controls">
          <div class={`field${errText ? ' field-invalid' : ''}`}>
            <label for={id}>{profile.avatar_url ? 'Replace the avatar' : 'Choose an image'}</label>
            <input
              ref={input}
              id={id}
              type="file"
              accept={AVATAR_TYPES.join(',')}
              aria-describedby={`${id}-hint${errText ? ` ${id}-err` : ''}`}
              aria-invalid={errText ? 'true' : undefined}
              onChange={(e) => choose(e.currentTarget.files?.[0] ?? null)}
            />
            <p class="hint" id={`${id}-hint`}>
              PNG, JPEG or WebP, at most 2 MB. Location and other metadata are removed.
            </p>
            {errText && (
              <p class="field-error" id={`${id}-err`} role="alert">
                {errText}
              </p>
            )}
          </div>
          {file && (
            <div class="row">
              <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void upload()}>
                {busy ? 'Uploading…' : 'Upload'}
              </button>
              <button type="button" class="btn" disabled={busy} onClick={reset}>
                Cancel
              </button>
            </div>
          )}
          {saved && <Notice kind="success">Avatar saved.</Notice>}
          {error !== null && !uploadError(error) && <ErrorMessage error={error} />}
        </div>
      </div>
    </section>
  );
}
