/**
 * A file input styled as the app's buttons (the browser's own widget looks out of place beside them): the
 * input stays in the page, visually hidden but focusable, and its label is the button.
 */
export function FilePicker({ id, label, accept, chosen, onFile }: { id: string; label: string; accept: string; chosen: string | null; onFile(file: File): void }) {
  return (
    <span className="file-picker">
      <input
        id={id}
        type="file"
        className="visually-hidden"
        accept={accept}
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) onFile(file);
          e.target.value = '';
        }}
      />
      <label htmlFor={id} className="button">
        {label}
      </label>
      <span className="hint">{chosen ?? 'none chosen'}</span>
    </span>
  );
}
