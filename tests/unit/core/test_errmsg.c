/*
 * Unit tests of src/core/errmsg.c: messages on a handle's buffer and in a
 * caller's buffer, truncation, and the NULL or empty buffers callers pass
 * when they do not want details.
 */
#include <string.h>

#include <sluice/core.h>

#include "core/core.h"
#include "sl_test.h"

static void test_err_on_handle(void)
{
    sl__errmsg e;
    char big[1000];

    SL_CHECK_INT(sl__err(&e, SL_EIO, "read %s: %d", "x", 5), SL_EIO);
    SL_CHECK_STR(e.text, "read x: 5");
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    SL_CHECK_INT(sl__err(&e, SL_ENOMEM, "%s", big), SL_ENOMEM);
    SL_CHECK_INT(strlen(e.text), sizeof e.text - 1);
}

static void test_errbuf(void)
{
    char buf[16];

    SL_CHECK_INT(sl__errbuf(buf, sizeof buf, SL_ECONF, "bad %s", "value"),
                 SL_ECONF);
    SL_CHECK_STR(buf, "bad value");
    SL_CHECK_INT(sl__errbuf(buf, sizeof buf, SL_EPARSE, "%s",
                            "a message longer than sixteen"),
                 SL_EPARSE);
    SL_CHECK_STR(buf, "a message longe");
    SL_CHECK_INT(sl__errbuf(NULL, 0, SL_EINVAL, "ignored"), SL_EINVAL);
    SL_CHECK_INT(sl__errbuf(NULL, 100, SL_EINVAL, "ignored"), SL_EINVAL);
    buf[0] = 'q';
    SL_CHECK_INT(sl__errbuf(buf, 0, SL_EINVAL, "ignored"), SL_EINVAL);
    SL_CHECK_INT(buf[0], 'q');
    SL_CHECK_INT(sl__errbuf(buf, 1, SL_EINVAL, "cut"), SL_EINVAL);
    SL_CHECK_INT(buf[0], '\0');
}

const char *SL_SUITE = "core/errmsg";
const sl_test_case SL_TESTS[] = {
    {"err_on_handle", test_err_on_handle},
    {"errbuf", test_errbuf},
    {NULL, NULL},
};
