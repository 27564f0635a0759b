/*
 * vault_tool.c - a test tool standing in for a device's login (which `serve` builds later):
 * it opens a user's vault with a password, as a device would with the copy it holds, and
 * recovers the vault key from escrow as central does. It prints the public key that belongs
 * to the secret key it opened, so a test can compare it with the user's current one. Used by
 * tests/cli only. The password is the first line of standard input.
 *
 *   vault_tool unlock DIR LOGIN [PASSWORD_HASH WRAPPED PUBLIC]
 *       opens the user's vault; with the three values (as once stored, e.g. in an old backup
 *       or on an unsynchronised device), opens that copy instead of the current one
 *   vault_tool recover DIR LOGIN
 *       recovers the vault key from its escrow copy with central's master key
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/credentials.h"
#include "instance/instance.h"
#include "store/users.h"

static int die(const char *msg)
{
    fprintf(stderr, "vault_tool: %s\n", msg);
    return 1;
}

static void print_public_of(const unsigned char sk[VAULT_SECRET_BYTES])
{
    unsigned char pk[VAULT_PUBLIC_BYTES];
    char text[VAULT_PUBLIC_B64_LEN];
    crypto_scalarmult_base(pk, sk);
    vault_to_text(pk, sizeof pk, text, sizeof text);
    printf("%s\n", text);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return die("libsodium failed to start");
    if (argc < 4 || (strcmp(argv[1], "unlock") == 0 && argc != 4 && argc != 7) ||
        (strcmp(argv[1], "recover") == 0 && argc != 4))
        return die("usage: vault_tool unlock DIR LOGIN [PASSWORD_HASH WRAPPED PUBLIC] | "
                   "recover DIR LOGIN");
    struct op_err e = {0};
    struct instance *inst;
    if (instance_open(argv[2], &inst, &e) != 0)
        return die(e.msg);
    struct user u;
    if (users_get_by_login(inst->db, argv[3], &u, &e) != 0)
        return die(e.msg);
    unsigned char pk[VAULT_PUBLIC_BYTES], sk[VAULT_SECRET_BYTES];
    int rc;
    if (strcmp(argv[1], "recover") == 0) {
        char *dir = instance_path(inst, "keys");
        struct key master;
        memset(&master, 0, sizeof master);
        rc = keys_load_master(dir, &master, &e);
        free(dir);
        if (rc == 0)
            rc = credentials_recover(&master, &u, sk, &e);
        key_wipe(&master);
    } else {
        if (argc == 7) {
            free(u.password_hash);
            free(u.vault_secret_wrapped);
            free(u.vault_public_key);
            u.password_hash = strdup(argv[4]);
            u.vault_secret_wrapped = strdup(argv[5]);
            u.vault_public_key = strdup(argv[6]);
        }
        char pw[1024];
        if (!fgets(pw, sizeof pw, stdin))
            return die("no password on standard input");
        pw[strcspn(pw, "\n")] = '\0';
        rc = credentials_unlock(&u, pw, strlen(pw), pk, sk, &e);
        sodium_memzero(pw, sizeof pw);
    }
    if (rc == 0)
        print_public_of(sk);
    sodium_memzero(sk, sizeof sk);
    user_clear(&u);
    instance_close(inst);
    return rc == 0 ? 0 : die(e.msg);
}
