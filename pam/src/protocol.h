/*
 * The Tandem PAM line protocol, launcher side (pam/PROTOCOL.md): percent-encoding, a bounded
 * line reader with a poll() deadline that also drains the helper's stderr into the log, a
 * writer, and the conversation loop shared by pam_tandem.so and login_tandem.
 */
#ifndef TANDEM_PROTOCOL_H
#define TANDEM_PROTOCOL_H

#include <stddef.h>
#include <sys/types.h>

#define TP_MAX_LINE 8192        /* bytes, newline included */
#define TP_ERR_LINE 1024        /* a helper stderr line is logged up to this many bytes */
#define TP_ERR_LINES 256        /* at most this many stderr lines are logged per run */

/* Log sink: priority is a syslog priority (LOG_ERR, LOG_INFO, ...). */
typedef void (*tp_log_fn)(void *ctx, int prio, const char *msg);

/* A running helper and the launcher's ends of its three pipes. */
struct tp_child {
	pid_t pid;
	int in_fd;              /* we write: the helper's stdin */
	int out_fd;             /* we read: the helper's stdout */
	int err_fd;             /* we read: the helper's stderr (-1 once at EOF) */
	size_t out_len, out_skip;
	char out_buf[TP_MAX_LINE + 1];
	size_t err_len;
	int err_truncated;
	unsigned err_lines;
	char err_buf[TP_ERR_LINE + 1];
	tp_log_fn log;
	void *log_ctx;
	int err_bare;           /* log the helper's stderr lines as is, without the "helper: " prefix */
};

/* Results of tp_read_line and tp_converse. */
enum {
	TP_OK = 0,
	TP_EOF = -1,            /* end of file on the helper's stdout */
	TP_TIMEOUT = -2,        /* the deadline passed */
	TP_TOOLONG = -3,        /* a line over TP_MAX_LINE bytes */
	TP_BADLINE = -4,        /* NUL byte, unknown verb, bad escape, bad RESULT */
	TP_IOERR = -5,
	TP_REFUSED = -6,        /* the launcher could not carry out a request (SETAUTHTOK) */
};

enum tp_outcome { TP_DENY = 0, TP_SUCCESS, TP_IGNORE };

/* What a launcher does with the helper's requests. */
struct tp_ui {
	void *ctx;
	/* Ask; echo is 0 for PROMPT_OFF. Returns 0 and a malloc'd answer (zeroed and freed by the
	 * caller), or -1 for NOANSWER. */
	int (*prompt)(void *ctx, int echo, const char *text, char **answer);
	/* Show; is_error is 1 for ERROR. */
	void (*message)(void *ctx, int is_error, const char *text);
	/* SETAUTHTOK; returns 0, or -1 to deny. NULL: the token is ignored. */
	int (*setauthtok)(void *ctx, const char *tok);
};

/* Percent-encodes src into dst (NUL-terminated). Returns the length, or -1 if it does not fit. */
ssize_t tp_pct_encode(const char *src, char *dst, size_t dstlen);
/* Decodes in place; -1 on a bad escape, a raw control byte or an encoded NUL. */
int tp_pct_decode(char *s);

/* Writes "VERB", "VERB payload" or "VERB name payload" (payload percent-encoded) within the
 * deadline. Returns 0, TP_TOOLONG (nothing written), TP_TIMEOUT or TP_IOERR. */
int tp_send(struct tp_child *c, const char *verb, const char *name, const char *payload, int timeout_ms);
/* Reads one line (newline stripped, NUL-terminated, valid until the next call). */
int tp_read_line(struct tp_child *c, char **line, int timeout_ms);

/* Runs the conversation after the request was written, up to and including RESULT. Returns
 * TP_OK with *outcome and the (decoded, possibly empty) reason in reason/reasonlen, or a
 * TP_ error. Does not wait for the helper. */
int tp_converse(struct tp_child *c, const struct tp_ui *ui, int timeout_ms, enum tp_outcome *outcome, char *reason, size_t reasonlen);

/* After RESULT (stdin already closed): waits for end of file on the helper's stdout and stderr.
 * Any byte on stdout after RESULT is TP_BADLINE. */
int tp_expect_eof(struct tp_child *c, int timeout_ms);

/* Logs with printf formatting through c->log. */
void tp_logf(const struct tp_child *c, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Human-readable name of a TP_ error. */
const char *tp_strerror(int err);

/* Milliseconds on CLOCK_MONOTONIC. */
long long tp_now_ms(void);

#endif
