/** The web interface in Debian's chromium against a real kiln serve with a scripted worker (test/e2e/web/). */
import './web/ui.browser.js';
