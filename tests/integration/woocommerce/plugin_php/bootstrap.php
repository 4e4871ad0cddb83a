<?php
/**
 * Loads WordPress's own hook implementation (wp-includes/plugin.php) and escaping functions
 * (formatting.php, kses.php, http.php) from Debian's `wordpress` package, with small shims for
 * the few other WordPress and WooCommerce functions the plugin calls, then the plugin itself.
 *
 * Shims keep state in $GLOBALS['bc'] so scenarios can set the options, today's date, the
 * translations, the user's capabilities and the products `wc_get_product` finds.
 */

$wordpress = getenv( 'WORDPRESS_DIR' ) ?: '/usr/share/wordpress';
define( 'ABSPATH', rtrim( $wordpress, '/' ) . '/' );
define( 'WPINC', 'wp-includes' );
define( 'WP_PLUGIN_DIR', dirname( getenv( 'PLUGIN_DIR' ) ) );
define( 'WPMU_PLUGIN_DIR', WP_PLUGIN_DIR . '/../mu-plugins' );
require ABSPATH . WPINC . '/plugin.php';
$GLOBALS['wp_plugin_paths'] = array();
require ABSPATH . WPINC . '/formatting.php';
require ABSPATH . WPINC . '/kses.php';
require ABSPATH . WPINC . '/http.php';
require ABSPATH . WPINC . '/class-wp-error.php';

$GLOBALS['bc'] = array(
	'options'      => array( 'date_format' => 'F j, Y' ),
	'today'        => '2026-11-30',
	'timezone'     => 'Europe/Rome',
	'translations' => array(),
	'domains'      => array(),
	'can'          => true,
	'products'     => array(),
	'calls'        => array(),
	'home'         => 'https://shop.example.com/',
	'webhooks'     => array(), // WooCommerce's hooks: id => { delivery_url, secret }.
	'users'        => array(), // email => WordPress user id.
	'orders'       => array(), // what wc_get_orders finds.
	'http'         => array(), // each request the plugin made: { url, args }.
);

function bc_call( $name, ...$args ) {
	$GLOBALS['bc']['calls'][] = array_merge( array( $name ), $args );
}

// ---- options -----------------------------------------------------------------------------------
function get_option( $name, $default = false ) {
	if ( 'blog_charset' === $name ) {
		return 'UTF-8';
	}
	return array_key_exists( $name, $GLOBALS['bc']['options'] ) ? $GLOBALS['bc']['options'][ $name ] : $default;
}
function wp_load_alloptions() {
	return array( 'blog_charset' => 'UTF-8' );
}
function delete_option( $name ) {
	bc_call( 'delete_option', $name );
	unset( $GLOBALS['bc']['options'][ $name ] );
	return true;
}
function delete_post_meta_by_key( $key ) {
	bc_call( 'delete_post_meta_by_key', $key );
	return true;
}
function wp_allowed_protocols() {
	return array( 'http', 'https', 'mailto', 'tel' );
}
function admin_url( $path = '' ) {
	return home_url( 'wp-admin/' . ltrim( $path, '/' ) );
}
function home_url( $path = '' ) {
	return rtrim( $GLOBALS['bc']['home'], '/' ) . '/' . ltrim( $path, '/' );
}

// ---- language and time ---------------------------------------------------------------------------
function __( $text, $domain = 'default' ) {
	$GLOBALS['bc']['domains'][ $domain ] = true;
	return isset( $GLOBALS['bc']['translations'][ $text ] ) ? $GLOBALS['bc']['translations'][ $text ] : $text;
}
function esc_html__( $text, $domain = 'default' ) {
	return esc_html( __( $text, $domain ) );
}
function load_plugin_textdomain( $domain, $deprecated = false, $path = false ) {
	bc_call( 'load_plugin_textdomain', $domain, $path );
	return true;
}
function wp_normalize_path( $path ) {
	return preg_replace( '|(?<=.)/+|', '/', str_replace( '\\', '/', $path ) );
}
function wp_timezone() {
	return new DateTimeZone( $GLOBALS['bc']['timezone'] );
}
function current_time( $format ) {
	return ( new DateTimeImmutable( $GLOBALS['bc']['today'] . ' 10:00:00', wp_timezone() ) )->format( $format );
}
function wp_date( $format, $timestamp ) {
	// WordPress translates month names with the site's locale; the format is what matters here.
	return ( new DateTimeImmutable( '@' . $timestamp ) )->setTimezone( wp_timezone() )->format( $format );
}

// ---- admin ---------------------------------------------------------------------------------------
function current_user_can( $capability ) {
	bc_call( 'current_user_can', $capability );
	return $GLOBALS['bc']['can'];
}
class BC_Died extends Exception {
}
function wp_die( $message = '', $title = '', $args = array() ) {
	throw new BC_Died( is_string( $message ) ? $message : 'died' );
}
function add_submenu_page( ...$args ) {
	bc_call( 'add_submenu_page', ...array_slice( $args, 0, 5 ) );
	return 'hook';
}
function register_setting( $group, $name, $args = array() ) {
	bc_call( 'register_setting', $group, $name, $args['sanitize_callback'] ?? null );
}
function add_settings_error( $setting, $code, $message, $type = 'error' ) {
	bc_call( 'add_settings_error', $setting, $code );
}
function settings_errors( $setting = '' ) {
}
function settings_fields( $group ) {
	// WordPress prints the option page, the action and a nonce bound to "<group>-options".
	echo '<input type="hidden" name="option_page" value="' . esc_attr( $group ) . '">';
	echo '<input type="hidden" name="_wpnonce" value="nonce-for-' . esc_attr( $group ) . '-options">';
}
function submit_button() {
	echo '<input type="submit" class="button button-primary" value="Save Changes">';
}

// ---- WooCommerce -----------------------------------------------------------------------------------
function wc_get_product( $id ) {
	return isset( $GLOBALS['bc']['products'][ $id ] ) ? $GLOBALS['bc']['products'][ $id ] : false;
}

/** The parts of WC_Product the plugin uses, with WooCommerce's backorder rule. */
class BC_Product {
	public $meta;
	public $type;
	public $stock;
	public $backorders;
	public $children;

	public function __construct( $type, $meta, $stock = 0, $backorders = 'notify', $children = array() ) {
		$this->type       = $type;
		$this->meta       = $meta;
		$this->stock      = $stock;
		$this->backorders = $backorders;
		$this->children   = $children;
	}
	public function get_meta( $key, $single = true ) {
		return ( '_backorder_connector_eta' === $key && null !== $this->meta ) ? $this->meta : '';
	}
	public function is_type( $type ) {
		return $this->type === $type;
	}
	public function get_children() {
		return $this->children;
	}
	public function get_stock_status() {
		if ( $this->stock > 0 ) {
			return 'instock';
		}
		return 'no' === $this->backorders ? 'outofstock' : 'onbackorder';
	}
	// WC_Product::is_on_backorder(): stock managed, backorders allowed, not enough units.
	public function is_on_backorder( $qty_in_cart = 0 ) {
		if ( 'no' !== $this->backorders && $this->stock - $qty_in_cart < 0 ) {
			return true;
		}
		return 'onbackorder' === $this->get_stock_status();
	}
	public function is_in_stock() {
		return 'outofstock' !== $this->get_stock_status();
	}
	// WC_Product::get_availability(): the text and class every stock line is built from.
	public function get_availability() {
		if ( ! $this->is_in_stock() ) {
			list( $text, $class ) = array( 'Out of stock', 'out-of-stock' );
		} elseif ( $this->is_on_backorder( 1 ) ) {
			$text  = 'notify' === $this->backorders ? 'Available on backorder' : '';
			$class = 'available-on-backorder';
		} else {
			list( $text, $class ) = array( $this->stock . ' in stock', 'in-stock' );
		}
		return array(
			'availability' => apply_filters( 'woocommerce_get_availability_text', $text, $this ),
			'class'        => apply_filters( 'woocommerce_get_availability_class', $class, $this ),
		);
	}
}

/** wc_get_stock_html() with WooCommerce's single-product/stock.php template. */
function wc_get_stock_html( $product ) {
	$availability = $product->get_availability();
	$html         = '';
	if ( ! empty( $availability['availability'] ) ) {
		$html = '<p class="stock ' . esc_attr( $availability['class'] ) . '">' . wp_kses_post( $availability['availability'] ) . '</p>';
	}
	return apply_filters( 'woocommerce_get_stock_html', $html, $product );
}

/** The parts of WC_Order_Item_Product the plugin uses. */
class BC_Order_Item {
	public $meta = array();

	public function add_meta_data( $key, $value, $unique = false ) {
		$this->meta[] = array( $key, $value, $unique );
	}
}

// ---- WordPress's HTTP API and errors (load.php, functions.php, class-wp-http.php) -----------------
function is_wp_error( $thing ) {
	return $thing instanceof WP_Error;
}
function wp_json_encode( $data, $options = 0, $depth = 512 ) {
	return json_encode( $data, $options, $depth );
}
function wp_generate_uuid4() {
	$h = bin2hex( random_bytes( 16 ) );
	return substr( $h, 0, 8 ) . '-' . substr( $h, 8, 4 ) . '-4' . substr( $h, 13, 3 ) . '-' . substr( $h, 16, 4 ) . '-' . substr( $h, 20, 12 );
}
/**
 * What http.php's wp_remote_* and wp_safe_remote_* functions call (`_wp_http_get_object()`): a real
 * POST over PHP's own HTTP stream, answered as WP_Http answers ({ response: { code }, body, ... }).
 */
class WP_Http {
	public function post( $url, $args = array() ) {
		$GLOBALS['bc']['http'][] = array( 'url' => $url, 'args' => $args );
		$lines = array();
		foreach ( $args['headers'] ?? array() as $name => $value ) {
			$lines[] = $name . ': ' . $value;
		}
		$context = stream_context_create(
			array(
				'http' => array(
					'method'          => 'POST',
					'header'          => implode( "\r\n", $lines ),
					'content'         => $args['body'] ?? '',
					'timeout'         => $args['timeout'] ?? 5,
					'follow_location' => 0,
					'ignore_errors'   => true,
				),
			)
		);
		$body = @file_get_contents( $url, false, $context ); // phpcs:ignore
		if ( false === $body ) {
			return new WP_Error( 'http_request_failed', 'could not connect to ' . $url );
		}
		preg_match( '#^HTTP/\S+ (\d{3})#', $http_response_header[0] ?? '', $status );
		return array(
			'headers'  => array(),
			'body'     => $body,
			'response' => array( 'code' => (int) ( $status[1] ?? 0 ), 'message' => '' ),
			'cookies'  => array(),
		);
	}
}

// ---- WooCommerce's hooks and order query, WordPress's users -------------------------------------
class BC_Webhook {
	private $hook;
	public function __construct( $hook ) {
		$this->hook = $hook;
	}
	public function get_delivery_url() {
		return $this->hook['delivery_url'];
	}
	public function get_secret() {
		return $this->hook['secret'];
	}
}
class BC_Webhook_Store {
	public function search_webhooks( $args = array() ) {
		bc_call( 'search_webhooks', $args );
		return array_keys( $GLOBALS['bc']['webhooks'] );
	}
}
class WC_Data_Store {
	public static function load( $name ) {
		if ( 'webhook' !== $name ) {
			throw new Exception( "no data store {$name} in this harness" );
		}
		return new BC_Webhook_Store();
	}
}
function wc_get_webhook( $id ) {
	return isset( $GLOBALS['bc']['webhooks'][ $id ] ) ? new BC_Webhook( $GLOBALS['bc']['webhooks'][ $id ] ) : null;
}
function wc_get_orders( $args ) {
	bc_call( 'wc_get_orders', $args );
	return $GLOBALS['bc']['orders'];
}
function get_user_by( $field, $value ) {
	if ( 'email' !== $field || ! isset( $GLOBALS['bc']['users'][ $value ] ) ) {
		return false;
	}
	return (object) array( 'ID' => $GLOBALS['bc']['users'][ $value ] );
}

require __DIR__ . '/features_util.php';
require getenv( 'PLUGIN_DIR' ) . '/backorder-connector.php';
