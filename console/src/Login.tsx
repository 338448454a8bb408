/**
 * The login screen: the admin token is checked against `/api/v1/health` before it is kept
 * (sessionStorage, see api.ts); a refused token shows the server's reason and is not kept.
 */
import { useState, type FormEvent } from "react";
import { api, errorText, setToken } from "./api";

export default function Login({ onLogin, notice }: { onLogin: () => void; notice?: string | null }) {
  const [token, setTok] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("/health", { token: token.trim() });
      setToken(token);
      onLogin();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form onSubmit={submit} className="card login-card" aria-labelledby="login-title">
        <h1 id="login-title">Presta-AX Bridge console</h1>
        {notice && <p className="notice">{notice}</p>}
        <label htmlFor="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setTok(e.target.value)}
          required
          autoFocus
        />
        <p className="hint">The bridge's admin token (PRESTA_AX_ADMIN_TOKEN; `presta-ax demo` prints it).</p>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || !token.trim()}>
          {busy ? "Checking…" : "Log in"}
        </button>
      </form>
    </main>
  );
}
