"""connectors/prestashop"""
