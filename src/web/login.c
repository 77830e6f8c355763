/* GET/POST /login and POST /logout. The login form is protected against
 * cross-site posts by a double-submit cookie: GET /login sets a random token
 * in a cookie scoped to /login and in the form; POST /login needs both, equal. */
#include "web/web_int.h"

#include <microhttpd.h>
#include <openssl/crypto.h>

#include <stdio.h>
#include <string.h>

#include "core/log.h"

#define LOGIN_TOKEN_TTL_S 900u

static void audit(struct web *w, const char *actor, const char *action, const char *addr)
{
	char detail[96];

	if (!w->audit)
		return;
	snprintf(detail, sizeof(detail), "{\"addr\":\"%s\"}", addr);
	w->audit(w->ctx, actor, action, detail);
}

static int login_page(struct web *w, struct web_resp *resp, unsigned status, const char *error)
{
	char tok[WEB_TOKEN_HEX], c[WEB_RESP_HEADER_VALUE];
	struct err_info info = {0};
	int rc;

	rc = web__token(tok);
	if (rc)
		return rc;
	snprintf(c, sizeof(c), "%s=%s; Path=/login; HttpOnly; SameSite=Strict; Max-Age=%u%s",
		 WEB_LOGIN_COOKIE, tok, LOGIN_TOKEN_TTL_S, w->secure_cookies ? "; Secure" : "");
	web__resp_header(resp, "Set-Cookie", c);
	const struct web_tpl_var vars[] = {
	    {"csrf", tok},
	    {"error", error},
	    {"error_hidden", error[0] ? "" : "hidden"},
	    {"version", ARB_VERSION},
	};
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	rc = web__tpl_render(w->tpl, "login.html", vars, sizeof(vars) / sizeof(vars[0]),
			     &resp->body, &info);
	OPENSSL_cleanse(tok, sizeof(tok));
	return rc;
}

int web__route_login_get(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	if (!w->auth_on || web__session_find(w, req)) {
		web__resp_text(resp, 303, "already logged in: /");
		web__resp_header(resp, "Location", "/");
		return 0;
	}
	return login_page(w, resp, 200, "");
}

int web__route_login_post(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	char user[WEB_USER_LEN + 1], pw[512], tok[WEB_TOKEN_HEX + 1], c[WEB_RESP_HEADER_VALUE];
	const char *body = req->body.data;
	size_t blen = req->body.len;
	struct web_session *s;
	long ulen, plen;
	bool ok;

	if (!w->auth_on) {
		web__resp_text(resp, 303, "login is off: /");
		web__resp_header(resp, "Location", "/");
		return 0;
	}
	if (!web__ratelimit_take(w, req->addr)) {
		w->logins_limited++;
		LOG_WARN("web", "login rate limited", "addr=%s", req->addr);
		web__resp_text(resp, 429, "too many login attempts; try again in a minute");
		web__resp_header(resp, "Retry-After", "60");
		return 0;
	}
	if (web__form_get(body, blen, "csrf", tok, sizeof(tok)) <= 0 ||
	    !web__token_eq(
		tok, MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, WEB_LOGIN_COOKIE))) {
		w->csrf_refused++;
		LOG_WARN("web", "login without its csrf token", "addr=%s", req->addr);
		web__resp_text(resp, 403,
			       "forbidden: missing or wrong CSRF token (reload the "
			       "login page)");
		return 0;
	}
	ulen = web__form_get(body, blen, "user", user, sizeof(user));
	plen = web__form_get(body, blen, "password", pw, sizeof(pw));
	if (ulen < 0)
		ulen = 0, user[0] = '\0';
	if (plen < 0)
		plen = 0, pw[0] = '\0';
	/* Always run scrypt, so a wrong user name costs as much as a wrong
	 * password; compare the name in constant time over the longer one. */
	ok = web__pwhash_verify(&w->pw, pw, (size_t)plen) == 0;
	ok = (size_t)ulen == strlen(w->user) && CRYPTO_memcmp(user, w->user, (size_t)ulen) == 0 &&
	     ok;
	OPENSSL_cleanse(pw, sizeof(pw));
	if (!ok) {
		w->logins_failed++;
		LOG_WARN("web", "login failed", "addr=%s", req->addr);
		audit(w, "anonymous", "login_failed", req->addr);
		return login_page(w, resp, 401, "Wrong user name or password.");
	}
	s = web__session_new(w, w->user);
	if (!s)
		return ERR_CRYPTO;
	web__session_cookie(w, s, c, sizeof(c));
	web__resp_text(resp, 303, "logged in: /");
	web__resp_header(resp, "Location", "/");
	web__resp_header(resp, "Set-Cookie", c);
	snprintf(c, sizeof(c), "%s=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0",
		 WEB_LOGIN_COOKIE);
	web__resp_header(resp, "Set-Cookie", c);
	snprintf(c, sizeof(c), "operator:%s", w->user);
	LOG_INFO("web", "login", "addr=%s", req->addr);
	audit(w, c, "login", req->addr);
	return 0;
}

int web__route_logout(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	char c[WEB_RESP_HEADER_VALUE], actor[WEB_USER_LEN + 16];

	snprintf(actor, sizeof(actor), "operator:%s", w->cur->user);
	if (w->cur != &w->dev)
		web__session_end(w->cur);
	w->cur = NULL;
	web__session_cookie(w, NULL, c, sizeof(c));
	web__resp_text(resp, 303, "logged out: /login");
	web__resp_header(resp, "Location", "/login");
	web__resp_header(resp, "Set-Cookie", c);
	audit(w, actor, "logout", req->addr);
	return 0;
}
