/*
 * The Tandem PAM line protocol, launcher side. See protocol.h and pam/PROTOCOL.md.
 *
 * Everything the helper sends is untrusted: lines are bounded (TP_MAX_LINE), every wait has a
 * poll() deadline, and anything unexpected is an error the caller turns into a denial.
 */
#define _GNU_SOURCE
#include "protocol.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

long long tp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tp_logf(const struct tp_child *c, int prio, const char *fmt, ...)
{
	char msg[TP_ERR_LINE + 128];
	va_list ap;

	if (c->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->log(c->log_ctx, prio, msg);
}

const char *tp_strerror(int err)
{
	switch (err) {
	case TP_OK: return "ok";
	case TP_EOF: return "end of file before RESULT";
	case TP_TIMEOUT: return "deadline passed";
	case TP_TOOLONG: return "line too long";
	case TP_BADLINE: return "malformed line";
	case TP_REFUSED: return "request refused by the launcher";
	default: return "I/O error";
	}
}

/* ---- percent-encoding ------------------------------------------------------------------ */

static int must_encode(unsigned char b)
{
	return b == '%' || b < 0x20 || b == 0x7f;
}

ssize_t tp_pct_encode(const char *src, char *dst, size_t dstlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
		size_t need = must_encode(*p) ? 3 : 1;
		if (o + need >= dstlen)
			return -1;
		if (need == 3) {
			dst[o++] = '%';
			dst[o++] = hex[*p >> 4];
			dst[o++] = hex[*p & 15];
		} else {
			dst[o++] = (char)*p;
		}
	}
	if (o >= dstlen)
		return -1;
	dst[o] = '\0';
	return (ssize_t)o;
}

static int hexval(unsigned char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	if (h >= 'a' && h <= 'f')
		return h - 'a' + 10;
	return -1;
}

int tp_pct_decode(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = (unsigned char *)s;

	while (*r != '\0') {
		if (*r < 0x20 || *r == 0x7f)
			return -1;              /* raw control bytes must be encoded */
		if (*r != '%') {
			*w++ = *r++;
			continue;
		}
		int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;              /* bad escape, or an encoded NUL */
		*w++ = (unsigned char)(hi << 4 | lo);
		r += 3;
	}
	*w = '\0';
	return 0;
}

/* ---- writing ------------------------------------------------------------------------------ */

/* write(2) that cannot raise SIGPIPE in the host process (sshd, sudo, ...). */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipeset, old, pending;
	int was_pending, saved;
	ssize_t n;

	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipeset, &old);
	n = write(fd, buf, len);
	saved = errno;
	if (n < 0 && saved == EPIPE && !was_pending) {
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&pipeset, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

static int write_all(int fd, const char *buf, size_t len, long long deadline)
{
	while (len > 0) {
		ssize_t n = write_nosigpipe(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return TP_IOERR;
		long long left = deadline - tp_now_ms();
		if (left <= 0)
			return TP_TIMEOUT;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left) < 0 && errno != EINTR)
			return TP_IOERR;
	}
	return TP_OK;
}

int tp_send(struct tp_child *c, const char *verb, const char *name, const char *payload, int timeout_ms)
{
	char line[TP_MAX_LINE + 1];
	size_t o;
	int n, r;

	n = snprintf(line, sizeof(line), "%s%s%s%s", verb, name || payload ? " " : "",
	    name ? name : "", name && payload ? " " : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return TP_TOOLONG;
	o = (size_t)n;
	if (payload != NULL) {
		ssize_t e = tp_pct_encode(payload, line + o, sizeof(line) - o);
		if (e < 0) {
			explicit_bzero(line, sizeof(line));
			return TP_TOOLONG;
		}
		o += (size_t)e;
	}
	if (o + 1 > TP_MAX_LINE) {
		explicit_bzero(line, sizeof(line));
		return TP_TOOLONG;
	}
	line[o++] = '\n';
	r = write_all(c->in_fd, line, o, tp_now_ms() + timeout_ms);
	explicit_bzero(line, sizeof(line));
	return r;
}

/* ---- reading --------------------------------------------------------------------------- */

/* "[level] " prefixes the helper may put on a log line (src/client/log.ts), and their priority. */
static const struct {
	const char *tag;
	int prio;
} levels[] = {
	{ "[debug] ", LOG_DEBUG }, { "[info] ", LOG_INFO }, { "[notice] ", LOG_NOTICE },
	{ "[warning] ", LOG_WARNING }, { "[error] ", LOG_ERR },
};

static void flush_err_line(struct tp_child *c)
{
	int prio = LOG_INFO;
	char *msg = c->err_buf;

	c->err_buf[c->err_len] = '\0';
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		size_t n = strlen(levels[i].tag);
		if (strncmp(msg, levels[i].tag, n) == 0) {
			prio = levels[i].prio;
			msg += n;
			break;
		}
	}
	if (c->err_lines < TP_ERR_LINES)
		tp_logf(c, prio, "%s%s%s", c->err_bare ? "" : "helper: ", msg, c->err_truncated ? " [truncated]" : "");
	else if (c->err_lines == TP_ERR_LINES)
		tp_logf(c, LOG_WARNING, "helper: further stderr output not logged");
	c->err_lines++;
	c->err_len = 0;
	c->err_truncated = 0;
}

/* Reads what is available on the helper's stderr and logs complete lines (sanitised). */
static void drain_stderr(struct tp_child *c)
{
	char chunk[512];
	ssize_t n = read(c->err_fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (c->err_len > 0)
			flush_err_line(c);
		close(c->err_fd);
		c->err_fd = -1;
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)chunk[i];
		if (b == '\n') {
			flush_err_line(c);
		} else if (c->err_len < TP_ERR_LINE) {
			c->err_buf[c->err_len++] = (char)(b < 0x20 || b == 0x7f ? '?' : b);
		} else {
			c->err_truncated = 1;
		}
	}
}

/* Waits for input on stdout (and drains stderr meanwhile). 1: readable, or a TP_ error. */
static int wait_stdout(struct tp_child *c, long long deadline)
{
	for (;;) {
		long long left = deadline - tp_now_ms();
		if (left <= 0)
			return TP_TIMEOUT;
		struct pollfd p[2] = { { .fd = c->out_fd, .events = POLLIN }, { .fd = c->err_fd, .events = POLLIN } };
		int r = poll(p, c->err_fd >= 0 ? 2 : 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno != EINTR)
			return TP_IOERR;
		if (r <= 0)
			continue;
		if (c->err_fd >= 0 && p[1].revents != 0)
			drain_stderr(c);
		if (p[0].revents != 0)
			return 1;
	}
}

int tp_read_line(struct tp_child *c, char **line, int timeout_ms)
{
	long long deadline = tp_now_ms() + timeout_ms;

	if (c->out_skip > 0) {          /* drop the previous line and zero what it left behind */
		memmove(c->out_buf, c->out_buf + c->out_skip, c->out_len - c->out_skip);
		explicit_bzero(c->out_buf + c->out_len - c->out_skip, c->out_skip);
		c->out_len -= c->out_skip;
		c->out_skip = 0;
	}
	for (;;) {
		char *nl = memchr(c->out_buf, '\n', c->out_len);
		size_t upto = nl ? (size_t)(nl - c->out_buf) : c->out_len;
		if (memchr(c->out_buf, '\0', upto) != NULL)
			return TP_BADLINE;
		if (nl != NULL) {
			*nl = '\0';
			c->out_skip = upto + 1;
			*line = c->out_buf;
			return TP_OK;
		}
		if (c->out_len >= TP_MAX_LINE)
			return TP_TOOLONG;
		int r = wait_stdout(c, deadline);
		if (r < 0)
			return r;
		ssize_t n = read(c->out_fd, c->out_buf + c->out_len, TP_MAX_LINE - c->out_len);
		if (n == 0)
			return TP_EOF;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return TP_IOERR;
		}
		c->out_len += (size_t)n;
	}
}

int tp_expect_eof(struct tp_child *c, int timeout_ms)
{
	long long deadline = tp_now_ms() + timeout_ms;

	if (c->out_len > c->out_skip) {
		tp_logf(c, LOG_ERR, "protocol error: output after RESULT");
		return TP_BADLINE;
	}
	while (c->out_fd >= 0) {
		char b[64];
		int r = wait_stdout(c, deadline);
		if (r < 0)
			return r;
		ssize_t n = read(c->out_fd, b, sizeof(b));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n != 0) {
			tp_logf(c, LOG_ERR, "protocol error: output after RESULT");
			return n < 0 ? TP_IOERR : TP_BADLINE;
		}
		close(c->out_fd);
		c->out_fd = -1;
	}
	while (c->err_fd >= 0) {
		long long left = deadline - tp_now_ms();
		if (left <= 0)
			return TP_TIMEOUT;
		struct pollfd p = { .fd = c->err_fd, .events = POLLIN };
		int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno != EINTR)
			return TP_IOERR;
		if (r > 0)
			drain_stderr(c);
	}
	return TP_OK;
}

/* ---- the conversation -------------------------------------------------------------------- */

enum verb { V_PROMPT_OFF, V_PROMPT_ON, V_INFO, V_ERROR, V_SETAUTHTOK, V_RESULT, V_UNKNOWN };

static enum verb verb_of(const char *v)
{
	static const char *const names[] = { "PROMPT_OFF", "PROMPT_ON", "INFO", "ERROR", "SETAUTHTOK", "RESULT" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i]) == 0)
			return (enum verb)i;
	return V_UNKNOWN;
}

static int answer(struct tp_child *c, const struct tp_ui *ui, int echo, const char *text, int timeout_ms)
{
	char *ans = NULL;
	int r;

	if (ui->prompt(ui->ctx, echo, text, &ans) != 0 || ans == NULL)
		return tp_send(c, "NOANSWER", NULL, NULL, timeout_ms);
	r = tp_send(c, "ANSWER", NULL, ans, timeout_ms);
	explicit_bzero(ans, strlen(ans));
	free(ans);
	if (r == TP_TOOLONG) {
		tp_logf(c, LOG_NOTICE, "answer too long for one line; sent NOANSWER");
		r = tp_send(c, "NOANSWER", NULL, NULL, timeout_ms);
	}
	return r;
}

static int result(struct tp_child *c, char *payload, enum tp_outcome *outcome, char *reason, size_t reasonlen)
{
	char *sp = strchr(payload, ' ');

	if (sp != NULL)
		*sp++ = '\0';
	if (strcmp(payload, "success") == 0)
		*outcome = TP_SUCCESS;
	else if (strcmp(payload, "ignore") == 0)
		*outcome = TP_IGNORE;
	else if (strcmp(payload, "deny") == 0)
		*outcome = TP_DENY;
	else {
		tp_logf(c, LOG_ERR, "protocol error: unknown RESULT");
		return TP_BADLINE;
	}
	if (reasonlen > 0) {
		size_t i = 0;
		for (const char *p = sp ? sp : ""; *p != '\0' && i + 1 < reasonlen; p++)
			reason[i++] = (char)((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
		reason[i] = '\0';
	}
	return TP_OK;
}

int tp_converse(struct tp_child *c, const struct tp_ui *ui, int timeout_ms, enum tp_outcome *outcome, char *reason, size_t reasonlen)
{
	for (;;) {
		char *line, *payload;
		int r = tp_read_line(c, &line, timeout_ms);
		if (r != TP_OK)
			return r;
		payload = strchr(line, ' ');
		if (payload != NULL)
			*payload++ = '\0';
		else
			payload = line + strlen(line);  /* "VERB" alone: empty payload */
		enum verb v = verb_of(line);
		if (v == V_UNKNOWN) {
			tp_logf(c, LOG_ERR, "protocol error: unknown verb");
			return TP_BADLINE;
		}
		if (tp_pct_decode(payload) != 0) {
			explicit_bzero(payload, strlen(payload));
			tp_logf(c, LOG_ERR, "protocol error: bad payload after %s", line);
			return TP_BADLINE;
		}
		switch (v) {
		case V_PROMPT_OFF:
		case V_PROMPT_ON:
			r = answer(c, ui, v == V_PROMPT_ON, payload, timeout_ms);
			break;
		case V_INFO:
		case V_ERROR:
			ui->message(ui->ctx, v == V_ERROR, payload);
			break;
		case V_SETAUTHTOK:
			if (ui->setauthtok != NULL && ui->setauthtok(ui->ctx, payload) != 0)
				r = TP_REFUSED;
			explicit_bzero(line, c->out_skip);      /* the whole line, encoded tail included */
			break;
		case V_RESULT:
			return result(c, payload, outcome, reason, reasonlen);
		default:
			return TP_BADLINE;
		}
		if (r != TP_OK)
			return r;
	}
}
