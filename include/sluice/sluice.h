/*
 * sluice: a micro-batch stream processor in C with Spark Streaming's model.
 * The umbrella header: include this one and link with -lsluice
 * (pkg-config --cflags --libs sluice).
 */
#ifndef SLUICE_H
#define SLUICE_H

#define SL_VERSION_MAJOR 0
#define SL_VERSION_MINOR 1
#define SL_VERSION_PATCH 0
#define SL_VERSION_STRING "0.1.0"

#include "core.h"
#include "schema.h"
#include "rdd.h"
#include "stream.h"
#include "source.h"
#include "sink.h"
#include "connectors.h"
#include "functions.h"
#include "job.h"
#include "checkpoint.h"
#include "sql.h"
#include "control.h"

#endif /* SLUICE_H */
