/** The one-line install of Debian's Chromium (no playwright import: the global setup reads it). */
export const CHROMIUM_INSTALL_COMMAND = 'apt-get install -y --no-install-recommends chromium';
