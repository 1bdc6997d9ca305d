/*
 * banned.h: C library calls the product's code must not use, each for a reason, and what to
 * use instead. The Makefile force-includes this header (-include util/banned.h) into every
 * file of server/, api/, store/, scoring/, util/ and pages/, after the system headers would
 * have been too late: a banned name then expands to an undeclared identifier, so using one
 * fails the build (with -Werror, and without: implicit declarations are errors in C11 under
 * -Werror=implicit-function-declaration, which the Makefile sets).
 *
 *   strcpy, strcat, sprintf, vsprintf  no bound: snprintf, or util/buf.h
 *   strncpy, strncat                   truncate without saying, strncpy does not terminate
 *   gets                               no bound at all
 *   strtok, strtok_r                   write into their input and hide state; split with
 *                                      strchr / strcspn
 *   atoi, atol, atoll, atof            no error report: util/num.h
 *   gmtime, localtime, ctime, asctime  static buffers: util/clock.h (gmtime_r inside)
 *   tmpnam, tempnam, mktemp            race: mkstemp
 */
#ifndef UTIL_BANNED_H
#define UTIL_BANNED_H

/* Included before anything else: the system headers declare these names first, then the
 * macros below take over for the rest of the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BANNED(func) sorry_##func##_is_banned_see_util_banned_h

#undef strcpy
#define strcpy(...) BANNED(strcpy)
#undef strcat
#define strcat(...) BANNED(strcat)
#undef strncpy
#define strncpy(...) BANNED(strncpy)
#undef strncat
#define strncat(...) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(...) BANNED(gets)
#undef strtok
#define strtok(...) BANNED(strtok)
#undef strtok_r
#define strtok_r(...) BANNED(strtok_r)
#undef atoi
#define atoi(...) BANNED(atoi)
#undef atol
#define atol(...) BANNED(atol)
#undef atoll
#define atoll(...) BANNED(atoll)
#undef atof
#define atof(...) BANNED(atof)
#undef gmtime
#define gmtime(...) BANNED(gmtime)
#undef localtime
#define localtime(...) BANNED(localtime)
#undef ctime
#define ctime(...) BANNED(ctime)
#undef asctime
#define asctime(...) BANNED(asctime)
#undef tmpnam
#define tmpnam(...) BANNED(tmpnam)
#undef tempnam
#define tempnam(...) BANNED(tempnam)
#undef mktemp
#define mktemp(...) BANNED(mktemp)

#endif
