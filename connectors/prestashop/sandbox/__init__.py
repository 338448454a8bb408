"""connectors/prestashop/sandbox"""
