/** Shared bits of the screens: status badge, error banner, confirmation dialog, page header. */
import { useEffect, useRef, type ReactNode } from "react";

/** A status pill: `status` picks the colour (styles.css), `label` the text (default: the status). */
export function Badge({ status, label }: { status: string; label?: string }) {
  return <span className={`badge ${status}`}>{label ?? status}</span>;
}

/**
 * Props of a box that scrolls sideways (a wide table on a phone): keyboard users reach it with
 * Tab and scroll it with the arrow keys; screen readers announce it by `label`.
 */
export function scrollBox(label: string): { tabIndex: number; role: string; "aria-label": string } {
  return { tabIndex: 0, role: "region", "aria-label": label };
}

export function ErrorBanner({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {error}
    </p>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="row" style={{ marginBottom: "0.6rem", alignItems: "center" }}>
      <h1 style={{ margin: 0 }}>{title}</h1>
      <span className="spacer" />
      {children}
    </div>
  );
}

/**
 * A modal confirmation (`<dialog>`, so focus is trapped and Escape cancels). `open` shows it;
 * `onConfirm`/`onCancel` close it. The confirm button gets the focus: Enter confirms.
 */
export function Confirm(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal?.();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={props.onCancel} onClose={() => props.open && props.onCancel()}>
      <h2 id="confirm-title">{props.title}</h2>
      <div>{props.children}</div>
      <div className="row" style={{ justifyContent: "flex-end", marginTop: "1rem" }}>
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" className={props.danger ? "danger" : undefined} onClick={props.onConfirm} autoFocus>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
