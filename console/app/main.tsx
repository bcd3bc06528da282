/** The console's entry: the session decides between the sign-in page and the pages. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiProblem, currentSession, signOut, type Session } from './api.ts';
import { RunDetail } from './run-detail.tsx';
import { RunsList } from './runs-list.tsx';
import { Link, usePlace } from './router.tsx';
import { SignIn } from './sign-in.tsx';

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [problem, setProblem] = useState('');
  const place = usePlace();
  useEffect(() => {
    currentSession().then(setSession, () => setSession(null));
  }, []);
  useEffect(() => setProblem(''), [place.pathname, place.search]);
  if (session === undefined) return <p role="status">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const onProblem = (e: unknown) => {
    // A session that ended (expired, revoked, signed out elsewhere): back to the sign-in page.
    if (e instanceof ApiProblem && e.status === 401) setSession(null);
    else setProblem(e instanceof Error ? e.message : String(e));
  };
  const run = /^\/runs\/([^/]+)$/.exec(place.pathname);
  return (
    <>
      <header class="top">
        <nav aria-label="Main">
          <Link href="/" class="brand">
            Maestro
          </Link>
        </nav>
        <span class="who">
          Signed in as <strong>{session.user}</strong>
        </span>
        <button type="button" onClick={() => void signOut().finally(() => setSession(null))}>
          Sign out
        </button>
      </header>
      <main>
        {problem && (
          <p role="alert" class="error">
            {problem}
          </p>
        )}
        {run ? (
          <RunDetail id={decodeURIComponent(run[1]!)} session={session} onProblem={onProblem} />
        ) : place.pathname === '/' ? (
          <RunsList session={session} search={place.search} onProblem={onProblem} />
        ) : (
          <h1>Not found</h1>
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
