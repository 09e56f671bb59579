// Rendering of login requests. Every value from a request is untrusted text from a Unix host:
// it reaches the page only through dom.ts (text nodes), after `shown` made hidden characters
// visible. Test hooks are data-testid attributes (see README in the report / docs).
import type { Decision } from '../../../src/protocol/approval.js';
import { clear, el } from './dom.js';
import { pushinfoRows, shown, timeLeft, typeLabel } from './text.js';
import type { LoginRequest } from './types.js';

export interface RequestHandlers {
  /** `number` is what the user typed ('' when the request asks for none). */
  decide(request: LoginRequest, decision: Decision, number: string): Promise<void>;
}

function row(label: string, value: string, testid?: string): HTMLElement[] {
  const dd = el('dd', testid ? { 'data-testid': testid, dir: 'auto' } : { dir: 'auto' }, value);
  return [el('dt', {}, label), dd];
}

function clock(ms: number): string {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '—';
}

function pushinfoView(pushinfo: string | null | undefined): HTMLElement | null {
  if (pushinfo === null || pushinfo === undefined || pushinfo === '') return null;
  const rows = pushinfoRows(pushinfo);
  if (rows === null) {
    return el('div', { class: 'pushinfo', 'data-testid': 'req-pushinfo' }, el('p', { class: 'hint' }, 'Details (undecodable, shown as received):'), el('pre', { class: 'raw', dir: 'ltr' }, shown(pushinfo)));
  }
  const dl = el('dl', { class: 'pushinfo', 'data-testid': 'req-pushinfo' });
  for (const [k, v] of rows.slice(0, 50)) dl.append(el('dt', { dir: 'auto' }, shown(k)), el('dd', { dir: 'auto' }, shown(v, '')));
  if (rows.length > 50) dl.append(el('dt', {}, '…'), el('dd', {}, `${rows.length - 50} more`));
  return dl;
}

/** One request card; `tick` refreshes its time left and disables it once expired. */
export class RequestView {
  readonly root: HTMLLIElement;
  private readonly left: HTMLElement;
  private readonly actions: HTMLElement;
  private readonly numberBox: HTMLFormElement;
  private readonly numberInput: HTMLInputElement;
  private readonly fraudBox: HTMLElement;
  private readonly message: HTMLElement;
  private busy = false;

  constructor(
    readonly request: LoginRequest,
    private readonly handlers: RequestHandlers,
  ) {
    const r = request;
    const user = r.displayUsername !== null && r.displayUsername !== undefined && r.displayUsername !== '' ? r.displayUsername : r.username;
    const titleId = `req-title-${Math.random().toString(36).slice(2)}`;
    this.left = el('dd', { 'data-testid': 'req-expires' }, timeLeft(r.expiresAt, Date.now()));

    const approve = el('button', { type: 'button', class: 'approve', 'data-testid': 'approve' }, 'Approve');
    const deny = el('button', { type: 'button', class: 'deny', 'data-testid': 'deny' }, 'Deny');
    const fraud = el('button', { type: 'button', class: 'fraud link', 'data-testid': 'fraud' }, 'Deny and report as fraud');
    this.actions = el('div', { class: 'actions' }, approve, deny, fraud);

    const numberId = `num-${titleId}`;
    this.numberInput = el('input', { id: numberId, 'data-testid': 'number-input', type: 'text', inputmode: 'numeric', pattern: '[0-9]{3}', maxlength: '3', minlength: '3', autocomplete: 'off', required: true, enterkeyhint: 'done', 'aria-describedby': `${numberId}-hint` });
    this.numberBox = el(
      'form',
      { class: 'number', hidden: true, novalidate: true },
      el('label', { for: numberId }, 'Number shown at the login'),
      el('p', { class: 'hint', id: `${numberId}-hint` }, 'Type the 3-digit number your login screen shows. Never type a number someone gives you.'),
      this.numberInput,
      el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'approve', 'data-testid': 'number-submit' }, 'Approve'), el('button', { type: 'button', class: 'secondary', 'data-action': 'cancel' }, 'Cancel')),
    );
    this.fraudBox = el(
      'div',
      { class: 'fraud-box', hidden: true, role: 'group', 'aria-label': 'Report as fraud' },
      el('p', {}, 'Report this as fraud? The login is denied and your account is locked until an administrator unlocks it.'),
      el('div', { class: 'actions' }, el('button', { type: 'button', class: 'fraud', 'data-testid': 'fraud-confirm' }, 'Deny and report'), el('button', { type: 'button', class: 'secondary', 'data-action': 'cancel' }, 'Cancel')),
    );
    this.message = el('p', { class: 'item-message', role: 'alert' });

    this.root = el(
      'li',
      { class: 'request', 'data-testid': 'request', 'data-txid': r.txid, 'aria-labelledby': titleId },
      el('h3', { id: titleId }, `${typeLabel(r.type)} request`),
      el(
        'dl',
        { class: 'fields' },
        ...row('User', shown(user), 'req-user'),
        ...row('Host', shown(r.hostname), 'req-host'),
        ...row('From', shown(r.ipaddr), 'req-ip'),
        ...row('Service', shown(r.integrationName ?? r.integration), 'req-integration'),
        ...row('Type', typeLabel(r.type), 'req-type'),
        ...row('Time', clock(r.createdAt), 'req-time'),
        el('dt', {}, 'Time left'),
        this.left,
      ),
      pushinfoView(r.pushinfo),
      this.actions,
      this.numberBox,
      this.fraudBox,
      this.message,
    );

    approve.addEventListener('click', () => {
      if (r.numberRequired) this.show(this.numberBox, this.numberInput);
      else void this.send('approve', '');
    });
    deny.addEventListener('click', () => void this.send('deny', ''));
    fraud.addEventListener('click', () => this.show(this.fraudBox, this.fraudBox.querySelector('[data-testid="fraud-confirm"]')));
    this.fraudBox.querySelector('[data-testid="fraud-confirm"]')!.addEventListener('click', () => void this.send('fraud', ''));
    for (const b of this.root.querySelectorAll('[data-action="cancel"]')) b.addEventListener('click', () => this.show(this.actions, null));
    this.numberInput.addEventListener('input', () => {
      const digits = this.numberInput.value.replace(/[^0-9]/g, '').slice(0, 3);
      if (digits !== this.numberInput.value) this.numberInput.value = digits;
      this.note('');
    });
    this.numberBox.addEventListener('submit', (e) => {
      e.preventDefault();
      const n = this.numberInput.value.trim();
      if (!/^[0-9]{3}$/.test(n)) {
        this.note('Type the 3 digits shown at the login.');
        this.numberInput.focus();
        return;
      }
      void this.send('approve', n);
    });
  }

  private show(box: HTMLElement, focus: Element | null): void {
    for (const b of [this.actions, this.numberBox, this.fraudBox]) b.hidden = b !== box;
    this.note('');
    if (focus instanceof HTMLElement) focus.focus();
  }

  note(text: string): void {
    this.message.textContent = text;
  }

  private setDisabled(disabled: boolean): void {
    for (const b of this.root.querySelectorAll<HTMLButtonElement | HTMLInputElement>('button, input')) b.disabled = disabled;
  }

  private async send(decision: Decision, number: string): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.setDisabled(true);
    this.root.setAttribute('aria-busy', 'true');
    try {
      await this.handlers.decide(this.request, decision, number);
    } catch (e) {
      this.note(e instanceof Error ? e.message : String(e));
    } finally {
      this.busy = false;
      this.root.removeAttribute('aria-busy');
      if (this.root.isConnected && Date.now() < this.request.expiresAt) this.setDisabled(false);
    }
  }

  tick(now: number): void {
    this.left.textContent = timeLeft(this.request.expiresAt, now);
    if (now >= this.request.expiresAt && !this.root.classList.contains('expired')) {
      this.root.classList.add('expired');
      this.setDisabled(true);
      this.show(this.actions, null);
      this.note('This request expired.');
    }
  }
}

/** The list: keeps a card (and whatever the user is typing in it) across refreshes. */
export class RequestListView {
  private readonly views = new Map<string, RequestView>();

  constructor(
    private readonly list: HTMLElement,
    private readonly empty: HTMLElement,
    private readonly handlers: RequestHandlers,
  ) {}

  render(requests: readonly LoginRequest[]): void {
    const seen = new Set<string>();
    let previous: Element | null = null;
    for (const r of requests) {
      if (seen.has(r.txid)) continue;
      seen.add(r.txid);
      let view = this.views.get(r.txid);
      if (!view || view.request.nonce !== r.nonce || view.request.expiresAt !== r.expiresAt) {
        view?.root.remove();
        view = new RequestView(r, this.handlers);
        this.views.set(r.txid, view);
      }
      const next: Element | null = previous ? previous.nextElementSibling : this.list.firstElementChild;
      if (next !== view.root) this.list.insertBefore(view.root, next);
      previous = view.root;
    }
    for (const [txid, view] of this.views) {
      if (!seen.has(txid)) {
        view.root.remove();
        this.views.delete(txid);
      }
    }
    this.empty.hidden = this.views.size > 0;
  }

  remove(txid: string): void {
    this.views.get(txid)?.root.remove();
    this.views.delete(txid);
    this.empty.hidden = this.views.size > 0;
  }

  tick(now: number): void {
    for (const v of this.views.values()) v.tick(now);
  }

  clear(): void {
    this.views.clear();
    clear(this.list);
    this.empty.hidden = false;
  }
}
