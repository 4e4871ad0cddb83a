<?php
/**
 * The settings page (WooCommerce → Backorder Connector): the service's address and the link that
 * connects this shop to it, and whether uninstalling also removes the dates from products.
 *
 * Saved through WordPress's Settings API (options.php checks the form's nonce and the capability
 * below); every value is sanitised on save and escaped on output.
 *
 * @package BackorderConnector
 */

namespace BackorderConnector;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const CAPABILITY = 'manage_woocommerce';
const PAGE_SLUG  = 'backorder-connector';

/**
 * The saved settings with defaults.
 *
 * @return array { service_url: string, delete_data: bool }
 */
function settings() {
	$saved = get_option( OPTION, array() );
	$saved = is_array( $saved ) ? $saved : array();
	return array(
		'service_url' => isset( $saved['service_url'] ) && is_string( $saved['service_url'] ) ? $saved['service_url'] : '',
		'delete_data' => ! empty( $saved['delete_data'] ),
	);
}

/**
 * Action `admin_menu`.
 */
function add_settings_page() {
	add_submenu_page(
		'woocommerce',
		__( 'Backorder Connector', 'backorder-connector' ),
		__( 'Backorder Connector', 'backorder-connector' ),
		CAPABILITY,
		PAGE_SLUG,
		__NAMESPACE__ . '\\render_settings_page'
	);
}

/**
 * Action `admin_init`.
 */
function register_settings() {
	register_setting(
		OPTION,
		OPTION,
		array(
			'type'              => 'array',
			'sanitize_callback' => __NAMESPACE__ . '\\sanitize_settings',
			'default'           => array(
				'service_url' => '',
				'delete_data' => false,
			),
		)
	);
}

/**
 * Filter `option_page_capability_{group}`: shop managers may save these settings, as they may
 * WooCommerce's own.
 *
 * @return string
 */
function settings_capability() {
	return CAPABILITY;
}

/**
 * A service address: https (http only for this machine, for trying the service locally), no
 * credentials, no query or fragment; '' when it is none of that.
 *
 * @param mixed $url What was typed.
 * @return string
 */
function clean_service_url( $url ) {
	if ( ! is_string( $url ) ) {
		return '';
	}
	$url   = trim( $url );
	$parts = wp_parse_url( $url );
	if ( ! is_array( $parts ) || empty( $parts['scheme'] ) || empty( $parts['host'] ) ) {
		return '';
	}
	$scheme = strtolower( $parts['scheme'] );
	$local  = in_array( strtolower( $parts['host'] ), array( 'localhost', '127.0.0.1', '[::1]' ), true );
	if ( ! ( 'https' === $scheme || ( 'http' === $scheme && $local ) ) ) {
		return '';
	}
	if ( isset( $parts['user'] ) || isset( $parts['pass'] ) || isset( $parts['query'] ) || isset( $parts['fragment'] ) ) {
		return '';
	}
	return untrailingslashit( esc_url_raw( $url, array( 'https', 'http' ) ) );
}

/**
 * The Settings API's sanitize callback.
 *
 * @param mixed $input The posted option.
 * @return array
 */
function sanitize_settings( $input ) {
	$input   = is_array( $input ) ? $input : array();
	$current = settings();
	$typed   = isset( $input['service_url'] ) && is_string( $input['service_url'] ) ? trim( $input['service_url'] ) : '';
	$url     = clean_service_url( $typed );
	if ( '' !== $typed && '' === $url ) {
		add_settings_error(
			OPTION,
			'service_url',
			__( 'The service address must be an https:// address without a query, such as https://backorders.example.com.', 'backorder-connector' )
		);
		$url = $current['service_url'];
	}
	return array(
		'service_url' => $url,
		'delete_data' => ! empty( $input['delete_data'] ),
	);
}

/**
 * Where the merchant connects this shop: the service's WooCommerce connect page with the shop's
 * address filled in. '' when no service address is set.
 *
 * @return string An unescaped URL.
 */
function connect_url() {
	$service = settings()['service_url'];
	if ( '' === $service ) {
		return '';
	}
	return $service . '/woocommerce/connect?store=' . rawurlencode( home_url( '/' ) );
}

/**
 * Filter `plugin_action_links_<plugin>`: a "Settings" link beside "Deactivate" on the Plugins screen.
 *
 * @param mixed $links The links WordPress shows.
 * @return array
 */
function action_links( $links ) {
	$links = is_array( $links ) ? $links : array();
	array_unshift(
		$links,
		sprintf(
			'<a href="%s">%s</a>',
			esc_url( admin_url( 'admin.php?page=' . PAGE_SLUG ) ),
			esc_html__( 'Settings', 'backorder-connector' )
		)
	);
	return $links;
}

/**
 * The settings page.
 */
function render_settings_page() {
	if ( ! current_user_can( CAPABILITY ) ) {
		wp_die( esc_html__( 'Sorry, you are not allowed to manage these settings.', 'backorder-connector' ), 403 );
	}
	$current = settings();
	$connect = connect_url();
	echo '<div class="wrap"><h1>' . esc_html__( 'Backorder Connector', 'backorder-connector' ) . '</h1>';
	settings_errors( OPTION );
	echo '<p>' . esc_html__( 'The service writes the date each backordered item ships by into your products; this plugin shows it on product pages, in the cart, at checkout and in order emails. No page of your shop calls the service.', 'backorder-connector' ) . '</p>';
	if ( '' !== $connect ) {
		printf(
			'<p><a class="button button-primary" href="%s" target="_blank" rel="noopener noreferrer">%s</a></p>',
			esc_url( $connect ),
			esc_html__( 'Connect this shop to Backorder Connector', 'backorder-connector' )
		);
	}
	echo '<form method="post" action="options.php">';
	settings_fields( OPTION );
	echo '<table class="form-table" role="presentation"><tr><th scope="row"><label for="bc-service-url">'
		. esc_html__( 'Service address', 'backorder-connector' ) . '</label></th><td>';
	printf(
		'<input type="url" class="regular-text" id="bc-service-url" name="%s[service_url]" value="%s" placeholder="https://backorders.example.com">',
		esc_attr( OPTION ),
		esc_attr( $current['service_url'] )
	);
	echo '</td></tr><tr><th scope="row">' . esc_html__( 'When uninstalled', 'backorder-connector' ) . '</th><td><label>';
	printf(
		'<input type="checkbox" name="%s[delete_data]" value="1"%s> ',
		esc_attr( OPTION ),
		$current['delete_data'] ? ' checked="checked"' : ''
	);
	echo esc_html__( 'Also remove the ship dates the service wrote into products (order lines keep theirs).', 'backorder-connector' );
	echo '</label></td></tr></table>';
	submit_button();
	echo '</form></div>';
}
