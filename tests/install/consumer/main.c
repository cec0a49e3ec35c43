/*
 * A program outside the source tree that uses an installed libsluice, as
 * tests/install/test_install.sh builds it: through pkg-config and through
 * find_package(Sluice), linked shared and static. Prints "ok" on success.
 */
#include <sluice/sluice.h>

#include <stdio.h>

int main(void)
{
    char err[256] = "";
    sl_value vals[3];
    sl_engine *eng = NULL;
    sl_conf *conf;
    sl_rdd *rdd;
    int64_t n = -1;
    sl_status st;
    int rc = 1;

    conf = sl_conf_new();
    if (!conf) {
        fprintf(stderr, "sl_conf_new failed\n");
        return 1;
    }
    st = sl_conf_set(conf, "workers", "1", err, sizeof err);
    if (st != SL_OK) {
        fprintf(stderr, "sl_conf_set: %s: %s\n", sl_errname(st), err);
        goto free_conf;
    }
    eng = sl_engine_new(conf, err, sizeof err);
    if (!eng) {
        fprintf(stderr, "sl_engine_new: %s\n", err);
        goto free_conf;
    }
    conf = NULL; /* the engine owns it now */
    vals[0] = sl_int(1);
    vals[1] = sl_int(2);
    vals[2] = sl_int(3);
    rdd = sl_rdd_parallelize(eng, vals, 3, 2);
    if (!rdd) {
        fprintf(stderr, "sl_rdd_parallelize: %s\n", sl_engine_errmsg(eng));
        goto free_engine;
    }
    st = sl_rdd_count(rdd, &n);
    if (st != SL_OK || n != 3) {
        fprintf(stderr, "sl_rdd_count: %s, count %lld (expected 3): %s\n",
                sl_errname(st), (long long)n, sl_engine_errmsg(eng));
        goto free_engine;
    }
    printf("ok\n");
    rc = 0;
free_engine:
    sl_engine_free(eng);
free_conf:
    sl_conf_free(conf);
    return rc;
}
