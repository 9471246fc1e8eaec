FROM node:20-slim
RUN npm install
RUN npm install express
RUN npm install express@4.18 @scope/pkg@1.0.0
RUN npm install @scope/pkg
RUN npm install -g typescript@5
RUN npm install git+https://github.com/x/y.git#v1.0 ./local ../up ~/home /abs pkg.tgz
RUN npm install git+https://github.com/x/y.git
RUN npm ci
RUN npm i express
RUN npm run install express
RUN yarn install
RUN yarn install && yarn cache clean
RUN yarn add left-pad
