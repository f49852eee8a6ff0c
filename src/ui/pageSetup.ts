import { connectPolicy } from '../workers/contentSecurityPolicy';

/**
 * Runs before the app fetches anything (imported first by main.tsx), in built pages only:
 * - narrows connect-src to the page's origin plus the model URL in the link (index.html's policy
 *   leaves connect-src open for exactly this; a second policy can only narrow);
 * - registers the service worker (offline use, cross-origin isolation on hosts without headers). The
 *   first visit is not yet isolated: once the worker controls the page, it reloads once to gain threads.
 */
const RELOAD_FLAG = 'edit-forensics-isolation-reload';

if (import.meta.env.PROD) {
  const meta = document.createElement('meta');
  meta.httpEquiv = 'Content-Security-Policy';
  meta.content = connectPolicy(location.search, location.origin);
  document.head.append(meta);

  if ('serviceWorker' in navigator && window.isSecureContext) {
    navigator.serviceWorker
      .register('./sw.js', { type: 'module', scope: './' })
      .then(() => {
        if (self.crossOriginIsolated) return;
        const reloadOnce = () => {
          if (sessionStorage.getItem(RELOAD_FLAG)) return;
          sessionStorage.setItem(RELOAD_FLAG, '1');
          location.reload();
        };
        if (navigator.serviceWorker.controller) reloadOnce();
        else navigator.serviceWorker.addEventListener('controllerchange', reloadOnce, { once: true });
      })
      .catch(() => undefined); // no service worker: the app works, single-threaded and online only
  }
}
