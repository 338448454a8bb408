/**
 * The console shell: login gate, navigation and the screen of the current hash route.
 * Screens are listed once in `SCREENS`; a route whose first part matches none shows the dashboard.
 */
import { lazy, Suspense, useEffect, useState, type ComponentType } from "react";
import { clearToken, getToken, LOGOUT_EVENT } from "./api";
import Login from "./Login";
import { useRoute, type Route } from "./router";
import Dashboard from "./pages/Dashboard";
import Messages from "./pages/Messages";
import DeadLetters from "./pages/DeadLetters";
import Review from "./pages/Review";
import Conflicts from "./pages/Conflicts";
import BulkRuns from "./pages/BulkRuns";

// The designer (React Flow) is the heaviest screen: load it only when opened.
const DesignerPage = lazy(() => import("./designer/DesignerPage"));

export interface Screen {
  path: string;
  label: string;
  component: ComponentType<{ route: Route }>;
}

export const SCREENS: Screen[] = [
  { path: "dashboard", label: "Dashboard", component: Dashboard },
  { path: "messages", label: "Messages", component: Messages },
  { path: "dlq", label: "Dead letters", component: DeadLetters },
  { path: "review", label: "Review", component: Review },
  { path: "conflicts", label: "Conflicts", component: Conflicts },
  { path: "bulk", label: "Bulk runs", component: BulkRuns },
  { path: "designer", label: "Designer", component: DesignerPage as ComponentType<{ route: Route }> },
];

export default function App() {
  const [authed, setAuthed] = useState(() => !!getToken());
  const [notice, setNotice] = useState<string | null>(null);
  const route = useRoute();

  useEffect(() => {
    const onLogout = () => {
      setNotice("The admin token was refused; log in again.");
      setAuthed(false);
    };
    window.addEventListener(LOGOUT_EVENT, onLogout);
    return () => window.removeEventListener(LOGOUT_EVENT, onLogout);
  }, []);

  if (!authed) return <Login notice={notice} onLogin={() => (setNotice(null), setAuthed(true))} />;

  const current = SCREENS.find((s) => s.path === route.parts[0]) ?? SCREENS[0];
  const Page = current.component;
  return (
    <div className="shell">
      {/* the hash is the router's: following "#main" would open the dashboard, so focus the content instead */}
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Presta-AX Bridge</span>
        <nav aria-label="Screens">
          <ul>
            {SCREENS.map((s) => (
              <li key={s.path}>
                <a href={`#/${s.path}`} aria-current={s === current ? "page" : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            clearToken();
            setNotice(null);
            setAuthed(false);
          }}
        >
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p>Loading…</p>}>
          <Page route={route} />
        </Suspense>
      </main>
    </div>
  );
}
