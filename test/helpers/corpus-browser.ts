/**
 * Opens a report in real Chromium (the shared launcher, test/report/browser.ts) and reports what a hostile
 * file name could have done there: dialogs opened (alert), elements injected from a name.
 */
import { pathToFileURL } from 'node:url';
import { chromiumMissing, openBrowser } from './browser.js';

export interface BrowserCheck {
  dialogs: string[];
  /** Elements only a name could have put there: <img src=x>, elements with on* handlers from names. */
  injected: number;
  text: string;
}

/** The check's findings, or why it could not run (a string). */
export async function checkInBrowser(htmlFile: string): Promise<BrowserCheck | string> {
  const missing = chromiumMissing();
  if (missing) return missing;
  const browser = await openBrowser();
  try {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
    await page.waitForTimeout(300); // let inline scripts and any onerror handlers run
    // Open every <details> so collapsed error lists are in innerText too.
    const { injected, text } = await page.evaluate(() => {
      document.querySelectorAll('details').forEach((d) => d.setAttribute('open', ''));
      const bad = document.querySelectorAll('img[src="x"], [onerror], [onload]:not(body)');
      return { injected: bad.length, text: document.body.innerText };
    });
    return { dialogs, injected, text };
  } finally {
    await browser.close();
  }
}
