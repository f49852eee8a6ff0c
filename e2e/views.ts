import type { Page } from '@playwright/test';

/** A view tab ("All layers", "Prompt", "Reverse", "Trace", ...): the demo card has links of the same names. */
export function viewTab(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'views' }).getByRole('button', { name, exact: true });
}
