import { useEffect, useRef, useState } from "react";
import { Link, useNavigate } from "react-router";
import { session } from "../session/session";
import { useMe, useSession } from "../session/useSession";
import { isAgentRole } from "../agent/roles";

/**
 * The header: "Login" top right when logged out; "My Cases" and a menu with the display name when logged in, and
 * for the support team "Queue" (agents and admins) and "Users" (admins).
 */
export function Header() {
  const { status } = useSession();
  const me = useMe();
  return (
    <header className="site-header">
      <Link to="/" className="brand">
        Casefold Support
      </Link>
      <nav aria-label="Main" className="header-nav">
        {status === "authenticated" ? (
          <>
            {isAgentRole(me.data?.role) && <Link to="/queue">Queue</Link>}
            <Link to="/cases">My Cases</Link>
            {me.data?.role === "admin" && <Link to="/users">Users</Link>}
            <UserMenu name={me.data?.display_name ?? "Account"} />
          </>
        ) : status === "anonymous" ? (
          <>
            <Link to="/signup">Sign Up</Link>
            <Link to="/login">Login</Link>
          </>
        ) : null}
      </nav>
    </header>
  );
}

function UserMenu({ name }: { name: string }) {
  const [open, setOpen] = useState(false);
  const navigate = useNavigate();
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    function onPointer(event: MouseEvent) {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    }
    function onKey(event: KeyboardEvent) {
      if (event.key === "Escape") setOpen(false);
    }
    document.addEventListener("mousedown", onPointer);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  async function logOut() {
    setOpen(false);
    await session.logOut();
    navigate("/login", { replace: true });
  }

  return (
    <div className="user-menu" ref={root}>
      <button
        type="button"
        aria-expanded={open}
        aria-controls="user-menu-items"
        onClick={() => setOpen((o) => !o)}
        className="menu-button"
      >
        {name} <span aria-hidden="true">▾</span>
      </button>
      {open && (
        <ul id="user-menu-items" className="menu-items">
          <li>
            <Link to="/settings" onClick={() => setOpen(false)}>
              Settings
            </Link>
          </li>
          <li>
            <button type="button" onClick={() => void logOut()}>
              Logout
            </button>
          </li>
        </ul>
      )}
    </div>
  );
}
