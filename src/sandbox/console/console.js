// The sandbox console's script: tabs, live updates from the control API's change feed,
// actions, the request details, the forms and the copy buttons. Every piece of markup it
// inserts was rendered (and escaped) by the sandbox; values it sets go through textContent
// or form fields, never through markup.
'use strict';
(() => {
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
  const base = '/_sandbox/';
  const tabs = ['orders', 'requests', 'callbacks', 'settings'];
  let seq = Number(document.body.dataset.seq) || 0;
  let tab = 'orders';

  function toast(message, bad) {
    const box = $('#toast');
    box.textContent = message;
    box.className = 'toast show ' + (bad ? 'bad' : 'ok');
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.className = 'toast'; }, bad ? 8000 : 3500);
  }

  function show(name) {
    tab = tabs.includes(name) ? name : 'orders';
    $$('.panel').forEach((panel) => { panel.hidden = panel.dataset.panel !== tab; });
    $$('[data-tab]').forEach((link) => {
      link.setAttribute('aria-selected', String(link.dataset.tab === tab));
    });
  }

  function viewQuery() {
    const query = new URLSearchParams({ panel: tab });
    if (tab === 'requests') {
      const filter = $('#filter');
      if (filter.elements.path.value) query.set('path', filter.elements.path.value);
      if (filter.elements.refused.checked) query.set('refused', 'true');
    }
    return query;
  }

  // What an open <details> is, so that it is opened again after the panel is rendered anew.
  function detailsKey(details) {
    if (details.dataset.request) return 'r' + details.dataset.request;
    if (details.dataset.delivery) return 'd' + details.dataset.delivery;
    const summary = $('summary', details);
    return 's' + (summary ? summary.textContent : '');
  }

  const requestDetails = new Map();
  async function loadRequest(details) {
    const id = details.dataset.request;
    const target = $('.detail', details);
    if (!id || !target || target.dataset.loaded) return;
    let markup = requestDetails.get(id);
    if (markup === undefined) {
      const answer = await fetch(base + 'console/requests/' + encodeURIComponent(id), { cache: 'no-store' });
      if (!answer.ok) {
        target.textContent = 'This request is no longer in the log.';
        return;
      }
      markup = await answer.text();
      requestDetails.set(id, markup);
    }
    target.innerHTML = markup; // rendered and escaped by the sandbox
    target.dataset.loaded = 'yes';
  }

  let running = null;
  let again = false;
  async function refresh() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        const shown = tab;
        const answer = await fetch(base + 'console/view?' + viewQuery(), { cache: 'no-store' });
        if (!answer.ok) throw new Error('the sandbox answered ' + answer.status);
        const view = await answer.json();
        seq = Math.max(seq, Number(view.seq) || 0);
        $('#status').innerHTML = view.status; // rendered and escaped by the sandbox
        const region = $('#panel-' + shown + ' .live-region');
        const focused = document.activeElement;
        const typing = region.contains(focused) && /^(INPUT|SELECT|TEXTAREA)$/.test(focused.tagName);
        if (!typing) {
          const open = new Set($$('details[open]', region).map(detailsKey));
          region.innerHTML = view.panel; // rendered and escaped by the sandbox
          $$('details', region).forEach((details) => {
            if (open.has(detailsKey(details))) {
              details.open = true;
              loadRequest(details);
            }
          });
        }
        show(tab);
      } while (again);
    })();
    try {
      await running;
    } finally {
      running = null;
    }
  }

  async function watch() {
    // The page was just served: live until a poll fails.
    $('#live').className = 'live on';
    for (;;) {
      try {
        const answer = await fetch(base + 'changes?since=' + seq + '&wait=20', { cache: 'no-store' });
        if (!answer.ok) throw new Error('the sandbox answered ' + answer.status);
        const changes = await answer.json();
        $('#live').className = 'live on';
        if (Number(changes.seq) > seq) {
          seq = Number(changes.seq);
          await refresh();
        }
      } catch (error) {
        $('#live').className = 'live off';
        await new Promise((resolve) => { setTimeout(resolve, 2000); });
      }
    }
  }

  async function call(path, body) {
    const answer = await fetch(base + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    const json = await answer.json().catch(() => ({}));
    return { ok: answer.ok, json };
  }

  function outcome(label, result) {
    if (!result.ok) {
      toast(label + ' — ' + (result.json.code || 'ERROR') + ': ' + (result.json.message || 'refused'), true);
      return;
    }
    const json = result.json;
    const what = json.state || json.event_type || json.signing || json.time || 'done';
    toast(label + ' — ' + what);
  }

  async function copyText(button) {
    const source = document.getElementById(button.dataset.copy);
    const text = source ? source.textContent : '';
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      document.execCommand('copy');
      selection.removeAllRanges();
    }
    button.textContent = 'Copied ✓';
    setTimeout(() => { button.textContent = 'Copy'; }, 1500);
  }

  document.addEventListener('click', async (event) => {
    const button = event.target.closest('button');
    if (!button) return;
    if (button.matches('.act[data-path]')) {
      event.preventDefault();
      button.disabled = true;
      try {
        outcome(button.textContent.trim(), await call(button.dataset.path, button.dataset.body || '{}'));
        await refresh();
      } catch (error) {
        toast(String(error), true);
      } finally {
        button.disabled = false;
      }
    } else if (button.matches('.copy[data-copy]')) {
      event.preventDefault();
      copyText(button);
    }
  });

  document.addEventListener('toggle', (event) => {
    const details = event.target;
    if (details.open && details.dataset && details.dataset.request) loadRequest(details);
  }, true);

  let samples = null;
  async function fillSample() {
    const form = $('#fire');
    if (!form) return;
    if (!samples) {
      const answer = await fetch(base + 'notifications/events', { cache: 'no-store' });
      samples = (await answer.json()).data || [];
    }
    const [api, type] = form.elements.event.value.split(/:(.*)/s);
    const sample = samples.find((s) => s.event_type === type && s.v2 === (api === 'v2'));
    form.elements.resource.value = sample ? JSON.stringify(sample.resource, null, 2) : '';
  }

  function wireForms() {
    const filter = $('#filter');
    let pending = null;
    filter.addEventListener('input', () => {
      clearTimeout(pending);
      pending = setTimeout(() => { refresh().catch((error) => toast(String(error), true)); }, 200);
    });
    filter.addEventListener('submit', (event) => event.preventDefault());

    const fire = $('#fire');
    fire.elements.event.addEventListener('change', () => { fillSample().catch(() => {}); });
    fire.addEventListener('submit', async (event) => {
      event.preventDefault();
      const [api, type] = fire.elements.event.value.split(/:(.*)/s);
      const body = { url: fire.elements.url.value, event_type: type, v2: api === 'v2' };
      if (fire.elements.fault.value) body.fault = fire.elements.fault.value;
      const text = fire.elements.resource.value.trim();
      if (text) {
        try {
          body.resource = JSON.parse(text);
        } catch (error) {
          toast('The resource is not JSON: ' + error.message, true);
          return;
        }
      }
      const result = await call('notifications/send', JSON.stringify(body));
      outcome('发送 Send ' + type, result);
      await refresh();
    });

    document.addEventListener('submit', async (event) => {
      if (event.target.id !== 'clock') return;
      event.preventDefault();
      const form = event.target;
      const body = {};
      if (form.elements.advance.value) body.advance_seconds = Number(form.elements.advance.value);
      if (form.elements.scale.value) body.time_scale = Number(form.elements.scale.value);
      outcome('时钟 Clock', await call('clock', JSON.stringify(body)));
      form.reset();
      await refresh();
    });
  }

  window.addEventListener('hashchange', () => {
    show(location.hash.slice(1));
    refresh().catch((error) => toast(String(error), true));
  });

  show(location.hash.slice(1));
  wireForms();
  fillSample().catch(() => {});
  watch();
})();
