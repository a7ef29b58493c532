// The dashboard's static files, bundled into the Worker as text (wrangler.toml [[rules]]): the page
// and uPlot are served by the router itself, so a deployed router depends on no third-party host.

import uplotCss from 'uplot/dist/uPlot.min.css';
import uplotJs from 'uplot/dist/uPlot.iife.min.js';
import clientJs from './client.js';
import { DASHBOARD_HTML } from './page.ts';

const JS = 'text/javascript; charset=utf-8';

/** Path under /dashboard → body and content type. */
export const DASHBOARD_ASSETS: ReadonlyMap<string, { readonly body: string; readonly type: string }> =
  new Map([
    ['', { body: DASHBOARD_HTML, type: 'text/html; charset=utf-8' }],
    ['/uplot.js', { body: uplotJs, type: JS }],
    ['/uplot.css', { body: uplotCss, type: 'text/css; charset=utf-8' }],
    ['/client.js', { body: clientJs, type: JS }],
  ]);
