/* fuzz_agent.c - libFuzzer target for the agent collectors' text
 * parsers: the input as a /proc/net/tcp and tcp6 table, as /etc/passwd
 * (and the account diff against a fixed table), and split in two halves
 * as the FIM diff's old and new text. Exact-size copies so ASan sees
 * over-reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/fim.h"
#include "agent/sock.h"
#include "agent/users.h"
#include "core/buf.h"

static int nop(void *ctx, const struct mm_account *a, const char *change)
{
	(void)ctx;
	(void)a;
	(void)change;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b = malloc(size ? size : 1);
	struct mm_sock_table t = { 0 };
	struct mm_accounts a = { 0 }, base = { 0 };
	struct mm_buf o;
	static const char pw[] = "root:x:0:0:root:/root:/bin/bash\ngit:x:998:998::/home/git:/sbin/nologin\n";
	if (!b)
		return 0;
	memcpy(b, data, size);
	mm_sock_parse(&t, b, size, 6, 0);
	mm_sock_parse(&t, b, size, 6, 1);
	mm_sock_table_free(&t);
	mm_accounts_parse(&base, pw, sizeof(pw) - 1);
	if (!mm_accounts_parse(&a, b, size))
		mm_accounts_diff(&base, &a, nop, NULL);
	mm_accounts_free(&a);
	mm_accounts_free(&base);
	mm_buf_init(&o, 1 << 20);
	mm_fim_diff(&o, b, size / 2, b + size / 2, size - size / 2, 4096);
	mm_buf_free(&o);
	free(b);
	return 0;
}
