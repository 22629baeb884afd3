from flask_smorest import Blueprint

blp = Blueprint("accounts_api", __name__, description="Your account and organizations")
