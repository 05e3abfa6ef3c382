// Tapir's query page (issue 15): turns the plain ADQL form of the landing page into an editor.
// Highlighting (a <pre> drawn under a transparent textarea), completion of schema, table and
// column names from /tables (names at once with detail=min, a table's columns when the query
// names it), the examples one click away, a sync run shown in the page (paged table, downloads
// in every format, the sky plot), an async submit that goes to the job, and the ADQL error
// marked at its line and column. Without this file the form still posts to /sync and /async.
(() => {
  'use strict';
  const form = document.getElementById('query-form');
  const ta = document.getElementById('adql');
  if (!form || !ta) return;
  const base = document.body.dataset.base || '';
  const editor = document.getElementById('editor');
  const errorBox = document.getElementById('query-error');
  const resultBox = document.getElementById('result');
  const PAGE = 50;
  const PLOT_MAX = 20000;

  const KEYWORDS = ('SELECT FROM WHERE AND OR NOT AS TOP DISTINCT ORDER BY GROUP HAVING JOIN LEFT RIGHT ' +
    'FULL INNER OUTER CROSS NATURAL ON USING UNION INTERSECT EXCEPT ALL IS NULL IN BETWEEN LIKE ILIKE ' +
    'EXISTS CASE WHEN THEN ELSE END ASC DESC OFFSET WITH TRUE FALSE').split(' ');
  const FUNCTIONS = ('ABS CEILING DEGREES EXP FLOOR LOG LOG10 MOD PI POWER RADIANS SQRT RAND ROUND ' +
    'TRUNCATE ACOS ASIN ATAN ATAN2 COS COT SIN TAN COUNT SUM AVG MIN MAX POINT CIRCLE BOX POLYGON ' +
    'REGION CONTAINS INTERSECTS DISTANCE AREA CENTROID COORD1 COORD2 COORDSYS LOWER UPPER CAST ' +
    'COALESCE IN_UNIT').split(' ');
  const KW = new Set(KEYWORDS);
  const FN = new Set(FUNCTIONS);

  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'
  })[c]);
  const el = (tag, attrs = {}, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };

  // ---- Highlighting -------------------------------------------------------------------
  const TOKEN = /(--[^\n]*)|('(?:[^']|'')*'?)|("(?:[^"]|"")*"?)|(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\s+)|([\s\S])/g;
  const FOLLOW = /\s*\(/y; // a function name is one followed by its parenthesis
  const pre = el('pre', { class: 'hl', 'aria-hidden': 'true' });
  const code = el('code');
  pre.appendChild(code);
  editor.insertBefore(pre, ta);
  editor.classList.add('enhanced');
  let errorAt = null; // {start, end} in UTF-16 offsets, while the text is unchanged

  function tokens(text) {
    const out = [];
    TOKEN.lastIndex = 0;
    let m;
    while ((m = TOKEN.exec(text)) !== null) {
      let cls = '';
      if (m[1]) cls = 'c';
      else if (m[2]) cls = 's';
      else if (m[3]) cls = 'q';
      else if (m[4]) cls = 'n';
      else if (m[5]) {
        const up = m[5].toUpperCase();
        if (KW.has(up)) cls = 'k';
        else if (FN.has(up)) {
          FOLLOW.lastIndex = TOKEN.lastIndex;
          if (FOLLOW.test(text)) cls = 'f';
        }
      }
      out.push({ start: m.index, end: TOKEN.lastIndex, text: m[0], cls, space: !!m[6] });
    }
    return out;
  }

  function highlight() {
    const text = ta.value;
    let html = '';
    let marked = false;
    for (const t of tokens(text)) {
      let piece = t.cls ? `<span class="t${t.cls}">${esc(t.text)}</span>` : esc(t.text);
      if (errorAt && !marked && !t.space && t.end > errorAt.start) {
        piece = `<mark class="err">${piece}</mark>`;
        marked = true;
      }
      html += piece;
    }
    if (errorAt && !marked) html += '<mark class="err"> </mark>';
    code.innerHTML = html + '\n';
    syncScroll();
  }
  function syncScroll() {
    pre.scrollTop = ta.scrollTop;
    pre.scrollLeft = ta.scrollLeft;
  }
  ta.addEventListener('scroll', syncScroll);

  // A 1-based line and column (characters) as an offset into the textarea's string.
  function offsetOf(text, line, column) {
    const lines = text.split('\n');
    let off = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i++) off += lines[i].length + 1;
    const chars = Array.from(lines[Math.min(line - 1, lines.length - 1)] || '');
    return off + chars.slice(0, Math.max(column - 1, 0)).join('').length;
  }

  // ---- The catalogue, loaded lazily ---------------------------------------------------
  const cat = { loaded: null, schemas: [], tables: [], columns: new Map(), asked: new Map() };
  const childText = (node, name) => {
    for (const c of node.children) if (c.localName === name) return c.textContent.trim();
    return '';
  };
  function loadNames() {
    if (cat.loaded) return cat.loaded;
    cat.loaded = fetch(`${base}/tables?detail=min`).then((r) => r.ok ? r.text() : '').then((xml) => {
      const doc = new DOMParser().parseFromString(xml, 'application/xml');
      for (const s of doc.getElementsByTagName('schema')) {
        const sname = childText(s, 'name');
        if (sname) cat.schemas.push(sname);
        for (const t of s.children) {
          if (t.localName !== 'table') continue;
          const name = childText(t, 'name');
          if (name) cat.tables.push({ name, schema: sname, description: childText(t, 'description') });
        }
      }
      wantColumns();
    }).catch(() => {});
    return cat.loaded;
  }
  function findTable(name) {
    const n = name.toLowerCase();
    return cat.tables.find((t) => t.name.toLowerCase() === n) ||
      cat.tables.find((t) => t.name.toLowerCase().split('.').pop() === n);
  }
  // A table's columns, fetched once (`asked` keeps the promise): for completion and the browser.
  function loadColumns(table) {
    const key = table.name.toLowerCase();
    if (cat.asked.has(key)) return cat.asked.get(key);
    const done = fetch(`${base}/tables/${encodeURIComponent(table.name)}`).then((r) => r.ok ? r.text() : '').then((xml) => {
      const doc = new DOMParser().parseFromString(xml, 'application/xml');
      const cols = [];
      for (const c of doc.getElementsByTagName('column')) {
        cols.push({
          name: childText(c, 'name'), unit: childText(c, 'unit'), ucd: childText(c, 'ucd'),
          description: childText(c, 'description'), datatype: childText(c, 'dataType')
        });
      }
      cat.columns.set(key, cols);
      // Names typed while the columns were on their way: offer them now.
      if (document.activeElement === ta && !dismissed) openList(false);
      return cols;
    }).catch(() => []);
    cat.asked.set(key, done);
    return done;
  }
  // The tables the query names, with their aliases: FROM/JOIN/comma, then an optional AS.
  function namedTables() {
    const out = [];
    const text = ta.value;
    const re = /(?:\bFROM|\bJOIN|,)\s*([A-Za-z_][\w.]*)/gi;
    let m;
    while ((m = re.exec(text)) !== null) {
      const t = findTable(m[1]);
      if (!t) continue;
      // The alias is looked at without being consumed: it may be the next FROM's keyword.
      const a = /^\s+(?:AS\s+)?([A-Za-z_]\w*)/i.exec(text.slice(re.lastIndex));
      const alias = a && !KW.has(a[1].toUpperCase()) ? a[1] : null;
      out.push({ table: t, alias });
    }
    return out;
  }
  function wantColumns() {
    for (const { table } of namedTables()) loadColumns(table);
  }

  // ---- Completion ---------------------------------------------------------------------
  const list = el('ul', { id: 'adql-complete', class: 'complete', role: 'listbox', 'aria-label': 'Suggestions' });
  list.hidden = true;
  editor.appendChild(list);
  ta.setAttribute('aria-autocomplete', 'list');
  ta.setAttribute('aria-controls', 'adql-complete');
  ta.setAttribute('aria-expanded', 'false');
  let items = [];
  let dismissed = false; // Esc closed the list: it stays closed until the next edit
  let active = 0;

  function currentWord() {
    const caret = ta.selectionStart;
    let i = caret;
    while (i > 0 && /[A-Za-z0-9_.]/.test(ta.value[i - 1])) i--;
    return { start: i, prefix: ta.value.slice(i, caret) };
  }

  function candidates(prefix) {
    const low = prefix.toLowerCase();
    const out = [];
    const add = (insert, label, kind, title) => {
      if (insert.toLowerCase().startsWith(low) && insert.toLowerCase() !== low) out.push({ insert, label, kind, title });
    };
    const dot = prefix.lastIndexOf('.');
    if (dot >= 0) {
      const head = prefix.slice(0, dot);
      const headLow = head.toLowerCase();
      for (const t of cat.tables) {
        if (t.schema.toLowerCase() === headLow) add(t.name, t.name, 'table', t.description);
      }
      const byAlias = namedTables().find((n) => n.alias && n.alias.toLowerCase() === headLow);
      const table = byAlias ? byAlias.table : findTable(head);
      if (table) {
        loadColumns(table);
        for (const c of cat.columns.get(table.name.toLowerCase()) || []) {
          add(`${head}.${c.name}`, c.name, c.unit ? `column [${c.unit}]` : 'column', c.description);
        }
      }
    } else {
      const seen = new Set();
      for (const { table } of namedTables()) {
        for (const c of cat.columns.get(table.name.toLowerCase()) || []) {
          if (seen.has(c.name)) continue;
          seen.add(c.name);
          add(c.name, c.name, c.unit ? `column [${c.unit}]` : 'column', c.description);
        }
      }
      for (const s of cat.schemas) add(s, s, 'schema', '');
      // A table by its qualified name or by its name alone; the qualified name goes in.
      for (const t of cat.tables) {
        const bare = t.name.split('.').pop().toLowerCase();
        if (t.name.toLowerCase().startsWith(low) || bare.startsWith(low)) {
          out.push({ insert: t.name, label: t.name, kind: 'table', title: t.description });
        }
      }
      for (const k of KEYWORDS) add(k, k, 'keyword', '');
      for (const f of FUNCTIONS) add(f, f, 'function', '');
    }
    const unique = [];
    const keys = new Set();
    for (const c of out) {
      if (keys.has(c.insert)) continue;
      keys.add(c.insert);
      unique.push(c);
    }
    return unique.slice(0, 12);
  }

  function caretPoint() {
    const before = ta.value.slice(0, ta.selectionStart).split('\n');
    const style = getComputedStyle(ta);
    const probe = el('span', {}, 'MMMMMMMMMM');
    probe.className = 'probe';
    pre.appendChild(probe);
    const cw = probe.getBoundingClientRect().width / 10;
    probe.remove();
    const lh = parseFloat(style.lineHeight) || 18;
    const top = parseFloat(style.paddingTop) + before.length * lh - ta.scrollTop + 2;
    const left = parseFloat(style.paddingLeft) + before[before.length - 1].length * cw - ta.scrollLeft;
    return { top, left: Math.max(0, Math.min(left, ta.clientWidth - 200)) };
  }

  function openList(force) {
    const { prefix } = currentWord();
    if (!prefix && !force) return closeList();
    items = candidates(prefix);
    if (!items.length) return closeList();
    active = 0;
    list.textContent = '';
    items.forEach((c, i) => {
      const li = el('li', { id: `adql-opt-${i}`, role: 'option', 'aria-selected': i === active ? 'true' : 'false' });
      li.appendChild(el('span', { class: 'name' }, c.label));
      li.appendChild(el('small', {}, ` ${c.kind}`));
      if (c.title) li.title = c.title;
      li.addEventListener('mousedown', (e) => { e.preventDefault(); accept(i); });
      list.appendChild(li);
    });
    const p = caretPoint();
    list.style.top = `${p.top}px`;
    list.style.left = `${p.left}px`;
    list.hidden = false;
    ta.setAttribute('aria-expanded', 'true');
    ta.setAttribute('aria-activedescendant', 'adql-opt-0');
  }
  function closeList() {
    list.hidden = true;
    items = [];
    ta.setAttribute('aria-expanded', 'false');
    ta.removeAttribute('aria-activedescendant');
  }
  function move(by) {
    const lis = list.children;
    lis[active].setAttribute('aria-selected', 'false');
    active = (active + by + items.length) % items.length;
    lis[active].setAttribute('aria-selected', 'true');
    lis[active].scrollIntoView({ block: 'nearest' });
    ta.setAttribute('aria-activedescendant', `adql-opt-${active}`);
  }
  function accept(i) {
    const c = items[i];
    if (!c) return;
    // The word as it is now (the caret may have moved since the list opened).
    const { start } = currentWord();
    ta.setRangeText(c.insert, start, ta.selectionStart, 'end');
    closeList();
    edited();
    ta.focus();
  }

  ta.addEventListener('keydown', (e) => {
    if (!list.hidden) {
      if (e.key === 'ArrowDown') { e.preventDefault(); move(1); return; }
      if (e.key === 'ArrowUp') { e.preventDefault(); move(-1); return; }
      if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); accept(active); return; }
      if (e.key === 'Escape') { e.preventDefault(); dismissed = true; closeList(); return; }
      if (['ArrowLeft', 'ArrowRight', 'Home', 'End', 'PageUp', 'PageDown'].includes(e.key)) closeList();
    }
    if (e.key === ' ' && e.ctrlKey) { e.preventDefault(); loadNames().then(() => openList(true)); return; }
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); runSync(); }
  });
  function edited() {
    errorAt = null;
    editor.classList.remove('has-error');
    highlight();
    wantColumns();
  }
  ta.addEventListener('input', (e) => {
    dismissed = false;
    edited();
    if (e.inputType && e.inputType.startsWith('delete')) return closeList();
    loadNames().then(() => openList(false));
  });
  ta.addEventListener('blur', () => setTimeout(closeList, 150));
  ta.addEventListener('mousedown', () => closeList());
  ta.addEventListener('focus', () => loadNames());

  // ---- Examples -----------------------------------------------------------------------
  for (const b of document.querySelectorAll('button.use-example')) {
    b.hidden = false;
    b.addEventListener('click', () => {
      ta.value = b.dataset.query || '';
      edited();
      ta.focus();
      ta.setSelectionRange(0, 0);
      form.scrollIntoView({ behavior: 'smooth', block: 'start' });
    });
  }

  // ---- The table browser: a table's columns under its name, inserted by a click ---------
  function insertAtCaret(text) {
    const start = ta.selectionStart;
    const before = ta.value.slice(0, start);
    const sep = before && !/[\s,(.]$/.test(before) ? ' ' : '';
    ta.setRangeText(sep + text, start, ta.selectionEnd, 'end');
    edited();
    ta.focus();
  }
  for (const det of document.querySelectorAll('details.columns')) {
    det.addEventListener('toggle', () => {
      if (!det.open || det.dataset.loaded) return;
      det.dataset.loaded = 'yes';
      const name = det.dataset.table;
      const box = det.querySelector('.columns-body');
      box.textContent = 'Loading…';
      loadColumns({ name }).then((cols) => {
        box.textContent = '';
        const t = el('table', { class: 'cols' });
        const head = el('tr');
        for (const h of ['column', 'unit', 'UCD', 'type', 'description']) head.appendChild(el('th', { scope: 'col' }, h));
        t.appendChild(head);
        for (const c of cols) {
          const tr = el('tr');
          const td = el('td');
          const b = el('button', { type: 'button', class: 'insert', 'aria-label': `Insert ${c.name} into the query` }, c.name);
          b.addEventListener('click', () => insertAtCaret(c.name));
          td.appendChild(b);
          tr.append(td, el('td', {}, c.unit), el('td', {}, c.ucd), el('td', {}, c.datatype), el('td', {}, c.description));
          t.appendChild(tr);
        }
        const use = el('button', { type: 'button', class: 'insert' }, `Insert ${name}`);
        use.addEventListener('click', () => insertAtCaret(name));
        box.append(use, t);
      });
    });
  }

  // ---- Errors -------------------------------------------------------------------------
  function showError(message, line, column, hint) {
    errorBox.textContent = '';
    const p = el('p');
    p.appendChild(el('strong', {}, line ? `Error at line ${line}, column ${column}: ` : 'Error: '));
    p.appendChild(document.createTextNode(message));
    errorBox.appendChild(p);
    if (hint) errorBox.appendChild(el('p', { class: 'hint' }, `Hint: ${hint}`));
    if (line) {
      const start = offsetOf(ta.value, line, column);
      errorAt = { start, end: start + 1 };
      editor.classList.add('has-error');
      ta.focus();
      ta.setSelectionRange(start, start);
    }
    highlight();
  }
  // The DALI error document (and its line, column, hint INFOs), or plain text (429, 503).
  function readError(status, body) {
    const doc = new DOMParser().parseFromString(body, 'application/xml');
    const infos = {};
    for (const i of doc.getElementsByTagName('INFO')) {
      const name = i.getAttribute('name');
      infos[name] = name === 'QUERY_STATUS' ? i.textContent.trim() : i.getAttribute('value');
    }
    if (infos.QUERY_STATUS === undefined) {
      return showError(body.trim() || `the service answered ${status}`);
    }
    showError(infos.QUERY_STATUS, parseInt(infos.line, 10) || 0, parseInt(infos.column, 10) || 0, infos.hint);
  }
  function clearError() {
    errorBox.textContent = '';
    errorAt = null;
    editor.classList.remove('has-error');
    highlight();
  }

  // ---- Running ------------------------------------------------------------------------
  function params(extra) {
    const p = new URLSearchParams();
    p.set('LANG', 'ADQL');
    p.set('QUERY', ta.value);
    const maxrec = form.elements.MAXREC.value.trim();
    if (maxrec) p.set('MAXREC', maxrec);
    for (const [k, v] of Object.entries(extra)) p.set(k, v);
    return p;
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (e.submitter && e.submitter.id === 'submit-job') submitJob();
    else runSync();
  });

  async function runSync() {
    closeList();
    clearError();
    resultBox.textContent = '';
    resultBox.appendChild(el('p', { class: 'muted' }, 'Running…'));
    const query = ta.value;
    let r;
    let body;
    try {
      r = await fetch(`${base}/sync`, { method: 'POST', body: params({ FORMAT: 'json' }) });
      body = await r.text();
    } catch (err) {
      resultBox.textContent = '';
      return showError(`the service could not be reached (${err})`);
    }
    resultBox.textContent = '';
    if (!r.ok) return readError(r.status, body);
    let data;
    try {
      data = JSON.parse(body);
    } catch (err) {
      return showError('the result could not be read');
    }
    if (data.query_status === 'ERROR') return showError(data.error || 'the query failed');
    showResult(data, query);
  }

  async function submitJob() {
    closeList();
    clearError();
    resultBox.textContent = '';
    resultBox.appendChild(el('p', { class: 'muted' }, 'Submitting the job…'));
    try {
      // Checked first (MAXREC=0: translated and planned, not run), so that a mistake is marked
      // in the editor now rather than found later in a failed job.
      const check = await fetch(`${base}/sync`, { method: 'POST', body: params({ FORMAT: 'json', MAXREC: '0' }) });
      if (!check.ok) {
        resultBox.textContent = '';
        return readError(check.status, await check.text());
      }
      // The 303 to the job is followed: the final URL is the job's.
      const r = await fetch(`${base}/async`, { method: 'POST', body: params({ PHASE: 'RUN', FORMAT: form.elements.FORMAT.value }) });
      if (!r.ok) {
        resultBox.textContent = '';
        return readError(r.status, await r.text());
      }
      window.location.assign(r.url);
    } catch (err) {
      resultBox.textContent = '';
      showError(`the service could not be reached (${err})`);
    }
  }

  // ---- Results ------------------------------------------------------------------------
  function cellText(v) {
    if (v === null || v === undefined) return '';
    if (Array.isArray(v)) return v.join(' ');
    return String(v);
  }
  function ucdHas(col, word) {
    return (col.ucd || '').toLowerCase().split(';').some((w) => w.trim() === word);
  }
  function positions(meta) {
    const find = (word, names) => {
      let i = meta.findIndex((c) => ucdHas(c, word) && ucdHas(c, 'meta.main'));
      if (i < 0) i = meta.findIndex((c) => ucdHas(c, word));
      if (i < 0) i = meta.findIndex((c) => names.includes((c.name || '').toLowerCase()));
      return i;
    };
    return find('pos.eq.ra', ['ra', 'raj2000', 'ra_icrs']) >= 0 && find('pos.eq.dec', ['dec', 'dej2000', 'de_icrs', 'dec_icrs']) >= 0;
  }

  function showResult(data, query) {
    const meta = data.metadata || [];
    const rows = data.data || [];
    const overflow = data.query_status === 'OVERFLOW';
    const maxrec = form.elements.MAXREC.value.trim();
    resultBox.textContent = '';
    const h = el('h2', {}, 'Result');
    resultBox.appendChild(h);
    resultBox.appendChild(el('p', { class: 'summary' }, `${rows.length} row${rows.length === 1 ? '' : 's'}` +
      (overflow ? ` — the first ${rows.length} only: raise “Rows at most” or submit a job for all of them` : '')));

    // Downloads in every format, as /sync links with the same query.
    const dl = el('p', { class: 'downloads' });
    dl.appendChild(document.createTextNode('Download: '));
    for (const o of form.elements.FORMAT.options) {
      const u = new URLSearchParams({ LANG: 'ADQL', FORMAT: o.value });
      if (maxrec) u.set('MAXREC', maxrec);
      u.set('QUERY', query);
      const a = el('a', { href: `${base}/sync?${u}`, title: `FORMAT=${o.value}` }, o.textContent);
      dl.appendChild(a);
      dl.appendChild(document.createTextNode(' '));
    }
    resultBox.appendChild(dl);

    const wrap = el('div', { class: 'result-wrap' });
    const table = el('table', { class: 'result' });
    const thead = el('thead');
    const names = el('tr');
    const units = el('tr', { class: 'units' });
    for (const c of meta) {
      const th = el('th', { scope: 'col' }, c.name);
      const about = [c.description, c.ucd ? `UCD: ${c.ucd}` : '', c.datatype ? `type: ${c.datatype}` : ''].filter(Boolean).join('\n');
      if (about) th.title = about;
      names.appendChild(th);
      units.appendChild(el('th', { scope: 'col' }, c.unit || ''));
    }
    thead.appendChild(names);
    thead.appendChild(units);
    table.appendChild(thead);
    const tbody = el('tbody');
    table.appendChild(tbody);
    wrap.appendChild(table);

    const nav = el('p', { class: 'pager' });
    const prev = el('button', { type: 'button' }, '← Previous');
    const next = el('button', { type: 'button' }, 'Next →');
    const where = el('span', { 'aria-live': 'polite' });
    nav.append(prev, ' ', where, ' ', next);
    let page = 0;
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    function draw() {
      tbody.textContent = '';
      for (const row of rows.slice(page * PAGE, (page + 1) * PAGE)) {
        const tr = el('tr');
        for (const v of row) {
          const td = el('td', {}, cellText(v));
          if (typeof v === 'number') td.className = 'num';
          tr.appendChild(td);
        }
        tbody.appendChild(tr);
      }
      where.textContent = rows.length ? `rows ${page * PAGE + 1}–${Math.min(rows.length, (page + 1) * PAGE)} of ${rows.length}` : 'no rows';
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }
    prev.addEventListener('click', () => { if (page > 0) { page--; draw(); } });
    next.addEventListener('click', () => { if (page < pages - 1) { page++; draw(); } });
    draw();
    resultBox.appendChild(wrap);
    if (rows.length > PAGE) resultBox.appendChild(nav);
    if (positions(meta) && rows.length) {
      const u = new URLSearchParams({ LANG: 'ADQL', MAXREC: String(Math.min(parseInt(maxrec, 10) || PLOT_MAX, PLOT_MAX)), QUERY: query });
      const fig = el('figure', { class: 'skyplot' });
      fig.appendChild(el('img', { src: `${base}/plot.svg?${u}`, alt: 'Sky plot of the positions in the result', width: '640', height: '480' }));
      fig.appendChild(el('figcaption', {}, 'Positions of the result (right ascension increases to the left).'));
      resultBox.appendChild(fig);
    }

  }

  // With this script a run is shown in the page whatever the format, so the format is the
  // job's (and the result view reads VOTable back, not HTML).
  const fmt = form.elements.FORMAT;
  if (fmt.value === 'html') fmt.value = 'votable';
  const fmtLabel = fmt.closest('label');
  if (fmtLabel && fmtLabel.firstChild) fmtLabel.firstChild.textContent = 'Format of a job\'s result ';

  highlight();
})();
