/** The sign-in page: a token in, a session cookie out (POST /v1/session); the token is not kept. */
import { useState } from 'preact/hooks';
import { signIn, type Session } from './api.ts';

export function SignIn(props: { onSignedIn: (session: Session) => void }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <main class="sign-in">
      <h1>Sign in to Maestro</h1>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          const form = event.currentTarget;
          const token = String(new FormData(form).get('token') ?? '');
          setBusy(true);
          try {
            const session = await signIn(token);
            form.reset();
            props.onSignedIn(session);
          } catch (e) {
            setError(e instanceof Error ? e.message : String(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck={false} required />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
      <p>
        A token with the <code>console</code> scope, made where the server runs:{' '}
        <code>maestro tokens create --name me --scope console,runs:read,runs:write</code>
      </p>
    </main>
  );
}
