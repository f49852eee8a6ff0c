import { GLOSSARY, type Term } from './glossary';

/** A term with its one-line explanation on hover and on keyboard focus (title plus a focusable, described span). */
export function TermLabel({ term, children }: { term: Term; children: React.ReactNode }) {
  return (
    <span className="term" tabIndex={0} title={GLOSSARY[term]} aria-description={GLOSSARY[term]}>
      {children}
    </span>
  );
}

/** Every term, for the Glossary section. */
export function Glossary() {
  return (
    <details className="glossary" data-testid="glossary">
      <summary>Glossary</summary>
      <dl>
        {Object.entries(GLOSSARY).map(([term, text]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{text}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
