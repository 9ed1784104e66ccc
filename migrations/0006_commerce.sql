-- Commerce (spec sections 3 to 5): carts, orders, payments, purchases.
-- Amounts are NUMERIC(10,2); the C code works in integer cents.

CREATE TABLE carts (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT carts_user_id_key UNIQUE (user_id)
);

CREATE TABLE cart_items (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	cart_id bigint NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
	added_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT cart_items_cart_id_movie_id_key UNIQUE (cart_id, movie_id)
);
CREATE INDEX cart_items_movie_idx ON cart_items (movie_id);

CREATE TYPE order_status AS ENUM ('pending', 'paid', 'canceled');

CREATE TABLE orders (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	status order_status NOT NULL DEFAULT 'pending',
	total_amount numeric(10, 2),
	-- the Stripe Checkout Session of the latest checkout, while pending
	checkout_session_id text,
	checkout_url text,
	-- advice for the buyer after a declined or expired payment
	payment_hint text,
	CONSTRAINT orders_total_amount_check CHECK (total_amount >= 0)
);
CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC);
CREATE INDEX orders_status_created_idx ON orders (status, created_at);
CREATE UNIQUE INDEX orders_checkout_session_key ON orders (checkout_session_id);

CREATE TRIGGER orders_set_updated_at BEFORE UPDATE ON orders
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE order_items (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
	-- RESTRICT: a movie in an order (bought or not) keeps the history whole
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE RESTRICT,
	price_at_order numeric(10, 2) NOT NULL,
	CONSTRAINT order_items_order_id_movie_id_key UNIQUE (order_id, movie_id),
	CONSTRAINT order_items_price_check CHECK (price_at_order >= 0)
);
CREATE INDEX order_items_movie_idx ON order_items (movie_id);

CREATE TYPE payment_status AS ENUM ('successful', 'canceled', 'refunded');

CREATE TABLE payments (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id),
	order_id bigint NOT NULL REFERENCES orders (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	status payment_status NOT NULL DEFAULT 'successful',
	amount numeric(10, 2) NOT NULL,
	-- Stripe's PaymentIntent id
	external_payment_id text,
	CONSTRAINT payments_amount_check CHECK (amount >= 0),
	CONSTRAINT payments_external_payment_id_key UNIQUE (external_payment_id)
);
CREATE INDEX payments_user_idx ON payments (user_id, created_at DESC);
CREATE INDEX payments_order_idx ON payments (order_id);
CREATE INDEX payments_status_created_idx ON payments (status, created_at);

CREATE TABLE payment_items (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	payment_id bigint NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
	order_item_id bigint NOT NULL REFERENCES order_items (id),
	price_at_payment numeric(10, 2) NOT NULL,
	CONSTRAINT payment_items_price_check CHECK (price_at_payment >= 0)
);
CREATE INDEX payment_items_payment_idx ON payment_items (payment_id);

-- The movies a user owns: filled when an order is paid, emptied of that
-- order's movies when its payment is refunded.
CREATE TABLE purchases (
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE RESTRICT,
	order_id bigint NOT NULL REFERENCES orders (id),
	purchased_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, movie_id)
);
CREATE INDEX purchases_movie_idx ON purchases (movie_id);

CREATE FUNCTION purchases_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM movies_bump(NEW.movie_id, 'purchases', 1);
	ELSE
		PERFORM movies_bump(OLD.movie_id, 'purchases', -1);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER purchases_count AFTER INSERT OR DELETE ON purchases
	FOR EACH ROW EXECUTE FUNCTION purchases_count();

-- Stripe events already handled: a redelivered event changes nothing.
CREATE TABLE stripe_events (
	id text PRIMARY KEY,
	type text NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now()
);
