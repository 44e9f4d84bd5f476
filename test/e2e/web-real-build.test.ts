/** The web interface in Debian's chromium following a real container build through kiln serve. */
import './web/real-build.browser.js';
