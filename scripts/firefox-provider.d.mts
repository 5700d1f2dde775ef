import type { BrowserProviderOption } from 'vitest/node';
export function firefoxBidi(): BrowserProviderOption;
