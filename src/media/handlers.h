/* HTTP routes of media uploads and public files (docs/MEDIA.md). */
#ifndef CINEMA_MEDIA_HANDLERS_H
#define CINEMA_MEDIA_HANDLERS_H

#include "cinema/http.h"

extern const struct route media_routes[];

#endif
