import { useAppStore } from '../state/store';

export function ErrorBanner() {
  const { error, dismissError } = useAppStore();
  if (!error) return null;
  return (
    <div className="error" role="alert" data-testid="error">
      <span>{error}</span>
      <button type="button" onClick={dismissError} aria-label="dismiss error">
        ×
      </button>
    </div>
  );
}
