import { useState } from 'react';
import { currentViewQuery, unshareableReason } from '../state/shareLink';
import { collectResults } from '../state/reportResults';
import { saveBlob } from '../state/reversalStore';
import { useAppStore } from '../state/store';
import { buildReportZip } from './reportExport';

/** "Copy link" for the current view, and the one-click report for reviewers. */
export function ShareBar() {
  const panel = useAppStore((s) => s.panel);
  const [link, setLink] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const copy = () => {
    const reason = unshareableReason();
    const query = currentViewQuery();
    if (reason || query === null) {
      setLink(null);
      setNote(reason);
      return;
    }
    const url = `${location.origin}${location.pathname}${query}`;
    setLink(url);
    if (!navigator.clipboard) {
      setNote('Copy the link below.');
      return;
    }
    navigator.clipboard.writeText(url).then(
      () => setNote('Link copied.'),
      () => setNote('Copy the link below.'),
    );
  };
  const exportReport = async () => {
    const root = document.querySelector('main');
    if (!root) return;
    setBusy(true);
    try {
      const query = currentViewQuery();
      const { bytes, files } = await buildReportZip(root, collectResults(), query ? `${location.origin}${location.pathname}${query}` : null);
      saveBlob(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), `edit-forensics-${panel}-report.zip`);
      setNote(`Report saved: ${files.length} files (charts as SVG and PNG, tables as CSV, results as JSON).`);
    } catch (error) {
      setNote(`The report could not be built: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="share-bar">
      <button type="button" onClick={copy}>
        Copy link
      </button>
      <button type="button" disabled={busy} onClick={() => void exportReport()}>
        Export report (zip)
      </button>
      {link && <input aria-label="Share link" data-testid="share-link" readOnly value={link} onFocus={(e) => e.target.select()} />}
      {note && (
        <span className="note" role="status" data-testid="share-note">
          {note}
        </span>
      )}
    </div>
  );
}
