import { type DragEvent, type KeyboardEvent, useRef, useState } from 'react';

interface Props {
  id: string;
  label: string;
  hint: string;
  files: File[];
  onFiles(files: File[]): void;
}

/** A drop target that is also a keyboard-operable button opening the file picker (multiple files). */
export function FileDropZone({ id, label, hint, files, onFiles }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const pick = () => input.current?.click();
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    onFiles([...e.dataTransfer.files]);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      pick();
    }
  };
  return (
    <div className="drop-field">
      <div
        id={id}
        className={`drop-zone${over ? ' over' : ''}`}
        role="button"
        tabIndex={0}
        aria-label={`${label}: drop files or press Enter to pick`}
        onClick={pick}
        onKeyDown={onKey}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <strong>{label}</strong>
        <span className="hint">{hint}</span>
        <span className="drop-action">{files.length ? 'Drop or click to replace' : 'Drop files here, or click (Enter) to choose them'}</span>
        {files.length > 0 && (
          <ul className="file-list">
            {files.map((f) => (
              <li key={f.name}>
                {f.name} <span className="hint">({formatBytes(f.size)})</span>
              </li>
            ))}
          </ul>
        )}
      </div>
      <input
        ref={input}
        data-testid={`${id}-input`}
        type="file"
        multiple
        hidden
        accept=".safetensors,.json"
        onChange={(e) => {
          onFiles([...(e.target.files ?? [])]);
          e.target.value = '';
        }}
      />
      {files.length > 0 && (
        <button type="button" className="link" onClick={() => onFiles([])}>
          clear
        </button>
      )}
    </div>
  );
}

function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}
