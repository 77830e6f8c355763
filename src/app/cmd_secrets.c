/* arbitrade secrets genkey | encrypt | decrypt: values travel through stdin
 * and stdout only, never argv, so they stay out of shell history and ps. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "app/app_int.h"
#include "core/secret.h"
#include "web/web.h"

#define SECRET_INPUT_MAX 8192

static int bad_usage(const char *why)
{
	fprintf(stderr, "arbitrade secrets: %s\n\n", why);
	app__usage(stderr, app__find("secrets"));
	return APP_USAGE;
}

static int load_key(const struct config *cfg, bool create, struct fernet **f)
{
	struct err_info info = {0};
	const char *text = "";
	char keybuf[FERNET_KEY_TEXT_LEN + 1] = {0};

	if (!secret_empty(cfg->fernet_key) && secret_len(cfg->fernet_key) < sizeof(keybuf)) {
		memcpy(keybuf, secret__bytes(cfg->fernet_key), secret_len(cfg->fernet_key));
		text = keybuf;
	}
	int rc = fernet_key_load(text, cfg->fernet_key_file, create, f, &info);
	OPENSSL_cleanse(keybuf, sizeof(keybuf));
	if (rc != 0) {
		fprintf(stderr, "arbitrade secrets: %s\n", info.msg[0] ? info.msg : err_str(rc));
		return APP_FAIL;
	}
	return APP_OK;
}

static int genkey(const struct config *cfg, bool write_file)
{
	char key[FERNET_KEY_TEXT_LEN + 1];
	if (write_file) {
		struct fernet *f = NULL;
		char path[CONFIG_PATH];
		int rc = load_key(cfg, true, &f);
		fernet_free(f);
		if (rc != APP_OK)
			return rc;
		if (cfg->fernet_key_file[0])
			snprintf(path, sizeof(path), "%s", cfg->fernet_key_file);
		else if (fernet_default_key_path(path, sizeof(path)) != 0)
			snprintf(path, sizeof(path), "(default key file)");
		fprintf(stderr, "key file ready: %s\n", path);
		return APP_OK;
	}
	if (fernet_genkey(key) != 0) {
		fprintf(stderr, "arbitrade secrets: could not generate a key\n");
		return APP_FAIL;
	}
	printf("%s\n", key);
	OPENSSL_cleanse(key, sizeof(key));
	return APP_OK;
}

static int encrypt_stdin(const struct config *cfg)
{
	char in[SECRET_INPUT_MAX];
	char out[SECRET_INPUT_MAX * 2];
	struct fernet *f = NULL;
	int rc = APP_FAIL;

	long n = app__read_stdin(in, sizeof(in), "value to encrypt: ");
	if (n < 0)
		goto cleanup;
	if (n == 0) {
		fprintf(stderr, "arbitrade secrets: nothing on stdin to encrypt\n");
		goto cleanup;
	}
	if (load_key(cfg, true, &f) != APP_OK)
		goto cleanup;
	int len = fernet_encrypt(f, in, (size_t)n, (int64_t)time(NULL), out, sizeof(out));
	if (len < 0) {
		fprintf(stderr, "arbitrade secrets: encryption failed: %s\n", err_str(len));
		goto cleanup;
	}
	printf("enc:%s\n", out);
	rc = APP_OK;
cleanup:
	fernet_free(f);
	OPENSSL_cleanse(in, sizeof(in));
	return rc;
}

static int decrypt_stdin(const struct config *cfg, long ttl)
{
	char in[SECRET_INPUT_MAX];
	struct fernet *f = NULL;
	struct secret *plain = NULL;
	struct err_info info = {0};
	int rc = APP_FAIL;

	long n = app__read_stdin(in, sizeof(in), "token to decrypt: ");
	if (n < 0)
		goto cleanup;
	const char *tok = in;
	if (strncmp(tok, "enc:", 4) == 0) {
		tok += 4;
		n -= 4;
	}
	if (n <= 0) {
		fprintf(stderr, "arbitrade secrets: nothing on stdin to decrypt\n");
		goto cleanup;
	}
	if (load_key(cfg, false, &f) != APP_OK)
		goto cleanup;
	int drc = fernet_decrypt(f, tok, (size_t)n, (int64_t)time(NULL), ttl, &plain, &info);
	if (drc != 0) {
		fprintf(stderr, "arbitrade secrets: cannot decrypt: %s\n",
			info.msg[0] ? info.msg : err_str(drc));
		goto cleanup;
	}
	fwrite(secret__bytes(plain), 1, secret_len(plain), stdout);
	fputc('\n', stdout);
	fflush(stdout);
	rc = APP_OK;
cleanup:
	secret_free(plain);
	fernet_free(f);
	OPENSSL_cleanse(in, sizeof(in));
	return rc;
}

/* The dashboard password hash for DASHBOARD_PASSWORD_HASH (scrypt). */
static int hash_password(void)
{
	char pw[1024], out[WEB_PWHASH_MAX];
	int rc;

	long n = app__read_stdin(pw, sizeof(pw), "dashboard password: ");
	if (n < 0)
		return APP_FAIL;
	if (n < 8) {
		OPENSSL_cleanse(pw, sizeof(pw));
		fprintf(stderr, "arbitrade secrets: the password must be at least 8 characters\n");
		return APP_USAGE;
	}
	rc = web_password_hash(pw, (size_t)n, 0, 0, 0, out, sizeof(out));
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc != 0) {
		fprintf(stderr, "arbitrade secrets: cannot hash the password: %s\n", err_str(rc));
		return APP_FAIL;
	}
	printf("%s\n", out);
	return APP_OK;
}

int app__cmd_secrets(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"env-file", required_argument, NULL, 'e'},
	    {"write", no_argument, NULL, 'w'},
	    {"ttl", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	const char *env_file = NULL;
	bool write_file = false;
	long ttl = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			env_file = optarg;
			break;
		case 'w':
			write_file = true;
			break;
		case 't': {
			char *end = NULL;
			ttl = strtol(optarg, &end, 10);
			if (!end || *end || ttl < 0)
				return bad_usage("--ttl expects a number of seconds");
			break;
		}
		default:
			return bad_usage("unknown option");
		}
	}
	if (optind >= argc)
		return bad_usage("missing subcommand: genkey, encrypt or decrypt");
	if (optind + 1 < argc)
		return bad_usage("values are read from stdin, not from arguments");
	const char *sub = argv[optind];
	if (strcmp(sub, "hash-password") == 0)
		return hash_password();

	struct config cfg;
	int rc = app__load_config(&cfg, env_file);
	if (rc != APP_OK)
		return rc;
	if (strcmp(sub, "genkey") == 0)
		rc = genkey(&cfg, write_file);
	else if (strcmp(sub, "encrypt") == 0)
		rc = encrypt_stdin(&cfg);
	else if (strcmp(sub, "decrypt") == 0)
		rc = decrypt_stdin(&cfg, ttl);
	else
		rc = bad_usage("unknown subcommand (genkey, encrypt, decrypt, hash-password)");
	config_release(&cfg);
	return rc;
}
