<?php
/**
 * Plugin Name:          Backorder Connector
 * Plugin URI:           https://backorder-connector.invalid/
 * Description:          Shows the date backordered items ship by on product pages, in the cart, at checkout and on order lines (so WooCommerce's own emails carry it), and tells search engines the item is on backorder until then. The dates are written into your products by the Backorder Connector service; no page of your shop calls the service.
 * Version:              0.1.0
 * Requires at least:    6.1
 * Requires PHP:         7.4
 * Requires Plugins:     woocommerce
 * Author:               Backorder Connector
 * License:              GPL-2.0-or-later
 * License URI:          https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:          backorder-connector
 * Domain Path:          /languages
 * WC requires at least: 8.0
 * WC tested up to:      9.4
 *
 * @package BackorderConnector
 */

namespace BackorderConnector;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const VERSION = '0.1.0';
// Product and variation meta written by the service through WooCommerce's REST API (JSON).
const META_KEY = '_backorder_connector_eta';
// Hidden order line meta: the ISO date promised at checkout.
const LINE_META_KEY = '_backorder_connector_ships_by';
const OPTION = 'backorder_connector_settings';
const TEXT_DOMAIN = 'backorder-connector';

require_once __DIR__ . '/includes/eta.php';
require_once __DIR__ . '/includes/display.php';
require_once __DIR__ . '/includes/structured-data.php';
require_once __DIR__ . '/includes/settings.php';
require_once __DIR__ . '/includes/privacy.php';

/**
 * Registers every hook of the plugin. No page calls the service: all it shows is product meta. Only
 * WordPress's privacy tools, run by an administrator, pass a request on to it (includes/privacy.php).
 */
function boot() {
	add_action( 'init', __NAMESPACE__ . '\\load_textdomain' );
	add_filter( 'woocommerce_get_availability_text', __NAMESPACE__ . '\\availability_text', 20, 2 );
	add_filter( 'woocommerce_get_availability_class', __NAMESPACE__ . '\\availability_class', 20, 2 );
	add_filter( 'woocommerce_available_variation', __NAMESPACE__ . '\\variation_data', 20, 3 );
	add_filter( 'woocommerce_get_item_data', __NAMESPACE__ . '\\cart_item_data', 20, 2 );
	add_action( 'woocommerce_checkout_create_order_line_item', __NAMESPACE__ . '\\order_line_item', 20, 4 );
	add_filter( 'woocommerce_structured_data_product_offer', __NAMESPACE__ . '\\structured_offer', 20, 2 );
	add_action( 'admin_menu', __NAMESPACE__ . '\\add_settings_page' );
	add_action( 'admin_init', __NAMESPACE__ . '\\register_settings' );
	add_filter( 'option_page_capability_' . OPTION, __NAMESPACE__ . '\\settings_capability' );
	add_action( 'before_woocommerce_init', __NAMESPACE__ . '\\declare_compatibility' );
	add_filter( 'plugin_action_links_' . plugin_basename( __FILE__ ), __NAMESPACE__ . '\\action_links' );
	add_filter( 'wp_privacy_personal_data_exporters', __NAMESPACE__ . '\\register_exporter' );
	add_filter( 'wp_privacy_personal_data_erasers', __NAMESPACE__ . '\\register_eraser' );
}

/**
 * Loads the plugin's translations from its languages/ folder.
 */
function load_textdomain() {
	load_plugin_textdomain( TEXT_DOMAIN, false, dirname( plugin_basename( __FILE__ ) ) . '/languages' );
}

/**
 * The plugin reads product meta and writes order line meta through WooCommerce's CRUD objects, so
 * it works with High-Performance Order Storage; its cart lines go through the filter the Cart and
 * Checkout blocks apply too.
 */
function declare_compatibility() {
	if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
		\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', __FILE__, true );
		\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'cart_checkout_blocks', __FILE__, true );
	}
}

boot();
