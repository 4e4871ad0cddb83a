<?php
/**
 * `php scenarios.php <scenario> [json argument]`: runs one scenario against the plugin's hooks and
 * prints its result as JSON. Driven by tests/integration/woocommerce/test_plugin_php.py.
 */

require __DIR__ . '/bootstrap.php';

function bc_meta( $status, $ships_by = null, $message = 'Ships by 15 December', $extra = array() ) {
	return json_encode(
		array_merge(
			array(
				'v'        => 1,
				'status'   => $status,
				'ships_by' => $ships_by,
				'p50'      => $ships_by,
				'p90'      => $ships_by,
				'message'  => $message,
				'updated'  => '2026-11-30T10:00:00Z',
			),
			$extra
		),
		JSON_UNESCAPED_UNICODE
	);
}

/** A product from a scenario's JSON description: {type, meta (string or null) or meta_hex, stock, backorders}. */
function bc_product( $spec ) {
	return new BC_Product(
		$spec['type'] ?? 'simple',
		isset( $spec['meta_hex'] ) ? hex2bin( $spec['meta_hex'] ) : ( $spec['meta'] ?? null ),
		$spec['stock'] ?? 0,
		$spec['backorders'] ?? 'notify',
		$spec['children'] ?? array()
	);
}

$scenario = $argv[1] ?? '';
$input    = isset( $argv[2] ) ? json_decode( $argv[2], true ) : array();
if ( isset( $input['translations'] ) ) {
	$GLOBALS['bc']['translations'] = $input['translations'];
}
if ( isset( $input['options'] ) ) {
	$GLOBALS['bc']['options'] = array_merge( $GLOBALS['bc']['options'], $input['options'] );
}
$result = null;

switch ( $scenario ) {
	case 'hooks':
		do_action( 'init' );
		do_action( 'before_woocommerce_init' );
		$names  = array(
			'woocommerce_get_availability_text',
			'woocommerce_get_availability_class',
			'woocommerce_available_variation',
			'woocommerce_get_item_data',
			'woocommerce_checkout_create_order_line_item',
			'woocommerce_structured_data_product_offer',
			'admin_menu',
			'admin_init',
			'init',
			'before_woocommerce_init',
			'option_page_capability_backorder_connector_settings',
			'plugin_action_links_backorder-connector/backorder-connector.php',
			'wp_privacy_personal_data_exporters',
			'wp_privacy_personal_data_erasers',
		);
		$result = array(
			'hooks'        => array(),
			'calls'        => $GLOBALS['bc']['calls'],
			'action_links' => apply_filters( 'plugin_action_links_backorder-connector/backorder-connector.php', array( '<a>Deactivate</a>' ) ),
		);
		foreach ( $names as $name ) {
			$result['hooks'][ $name ] = has_filter( $name );
		}
		break;

	case 'meta':
		// The plugin's own sample of what the service writes (for the Python test to compare).
		$result = bc_meta( 'backorder', '2026-12-15' );
		break;

	case 'stock_html':
		$product = bc_product( $input['product'] );
		$result  = array( 'html' => wc_get_stock_html( $product ) );
		bc_without_plugin_stock_filters();
		$result['woocommerce'] = wc_get_stock_html( $product );
		break;

	case 'variation':
		// WC_Product_Variable::get_available_variation(): the stock line, then the filter.
		$parent    = bc_product( array( 'type' => 'variable' ) );
		$variation = bc_product( $input['product'] + array( 'type' => 'variation' ) );
		$data      = array( 'variation_id' => 23, 'availability_html' => wc_get_stock_html( $variation ) );
		$result    = array( 'data' => apply_filters( 'woocommerce_available_variation', $data, $parent, $variation ) );
		bc_without_plugin_stock_filters();
		$result['woocommerce'] = wc_get_stock_html( $variation );
		break;

	case 'cart':
		$item   = array( 'data' => bc_product( $input['product'] ), 'quantity' => $input['quantity'] ?? 1 );
		$result = apply_filters( 'woocommerce_get_item_data', array( array( 'key' => 'Size', 'value' => 'M' ) ), $item );
		break;

	case 'order_line':
		$line   = new BC_Order_Item();
		$values = array( 'data' => bc_product( $input['product'] ), 'quantity' => $input['quantity'] ?? 1 );
		do_action( 'woocommerce_checkout_create_order_line_item', $line, 'cart-key', $values, null );
		$result = $line->meta;
		break;

	case 'offer':
		$ids = array();
		foreach ( $input['variations'] ?? array() as $index => $spec ) {
			$GLOBALS['bc']['products'][ 100 + $index ] = bc_product( $spec + array( 'type' => 'variation' ) );
			$ids[]                                  = 100 + $index;
		}
		$spec    = $input['product'] + array( 'children' => $ids );
		$offer   = array( '@type' => 'Offer', 'availability' => 'http://schema.org/BackOrder', 'price' => '12.00' );
		$result  = apply_filters( 'woocommerce_structured_data_product_offer', $offer, bc_product( $spec ) );
		break;

	case 'settings_page':
		$GLOBALS['bc']['can'] = $input['can'] ?? true;
		do_action( 'admin_menu' );
		do_action( 'admin_init' );
		ob_start();
		try {
			render_settings_page_via_menu();
			$died = null;
		} catch ( BC_Died $e ) {
			$died = $e->getMessage();
		}
		$result = array(
			'html'       => ob_get_clean(),
			'died'       => $died,
			'calls'      => $GLOBALS['bc']['calls'],
			'capability' => apply_filters( 'option_page_capability_backorder_connector_settings', 'manage_options' ),
		);
		break;

	case 'sanitize':
		do_action( 'admin_init' );
		$callback = null;
		foreach ( $GLOBALS['bc']['calls'] as $call ) {
			if ( 'register_setting' === $call[0] ) {
				$callback = $call[3];
			}
		}
		$result = array(
			'saved' => call_user_func( $callback, $input['posted'] ),
			'calls' => $GLOBALS['bc']['calls'],
		);
		break;

	case 'privacy':
		// WordPress's privacy tools (wp-admin/includes/ajax-actions.php): the registered exporter or
		// eraser of the plugin, called with the person's address and the page.
		foreach ( array( 'webhooks', 'users', 'orders' ) as $key ) {
			$GLOBALS['bc'][ $key ] = $input[ $key ] ?? array();
		}
		$filter   = 'erase' === $input['tool'] ? 'wp_privacy_personal_data_erasers' : 'wp_privacy_personal_data_exporters';
		$tools    = apply_filters( $filter, array( 'other' => array( 'callback' => 'strlen' ) ) );
		$tool     = $tools['backorder-connector'];
		$response = call_user_func( $tool['callback'], $input['email'], $input['page'] ?? 1 );
		$result   = array(
			'names'    => array_keys( $tools ),
			'friendly' => $tool['exporter_friendly_name'] ?? $tool['eraser_friendly_name'],
			'response' => is_wp_error( $response ) ? array( 'error' => $response->get_error_message() ) : $response,
			'http'     => $GLOBALS['bc']['http'],
			'calls'    => $GLOBALS['bc']['calls'],
		);
		break;

	case 'uninstall':
		define( 'WP_UNINSTALL_PLUGIN', 'backorder-connector/backorder-connector.php' );
		require getenv( 'PLUGIN_DIR' ) . '/uninstall.php';
		$result = array( 'calls' => $GLOBALS['bc']['calls'], 'options' => array_keys( $GLOBALS['bc']['options'] ) );
		break;

	default:
		fwrite( STDERR, "unknown scenario {$scenario}\n" );
		exit( 2 );
}

/** WooCommerce's own stock line: the plugin's filters taken off again (WordPress's remove_filter). */
function bc_without_plugin_stock_filters() {
	remove_filter( 'woocommerce_get_availability_text', 'BackorderConnector\\availability_text', 20 );
	remove_filter( 'woocommerce_get_availability_class', 'BackorderConnector\\availability_class', 20 );
}

/** Renders the page the way WordPress does: the callback the plugin gave add_submenu_page. */
function render_settings_page_via_menu() {
	foreach ( $GLOBALS['bc']['calls'] as $call ) {
		if ( 'add_submenu_page' === $call[0] ) {
			// add_submenu_page( parent, page title, menu title, capability, slug ): WordPress checks
			// the capability before calling the page; the page checks it again itself.
			return call_user_func( 'BackorderConnector\\render_settings_page' );
		}
	}
	throw new BC_Died( 'no page registered' );
}

echo json_encode( $result, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRETTY_PRINT ), "\n";
