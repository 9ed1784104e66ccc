/* HTTP routes of the cart, orders and payments (API.md "Cart, orders,
 * payments"), the Stripe webhook and the moderators' views. */
#ifndef CINEMA_COMMERCE_HANDLERS_H
#define CINEMA_COMMERCE_HANDLERS_H

#include "cinema/http.h"

extern const struct route commerce_routes[];

#endif
