#include "sql/functions_int.h"
const sl__sql_func sl__sql_funcs_time[] = {
    {NULL, 0, 0, NULL, NULL, NULL, false}};
